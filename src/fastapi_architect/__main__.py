from fastapi_architect.cli import main

main()
