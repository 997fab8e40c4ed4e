"""For AI coding assistants: the MCP server (`server`), its root confinement (`paths`), and
the agent definition installer (`agent`). The MCP SDK is imported only by `server`."""
