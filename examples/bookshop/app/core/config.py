from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    PROJECT_NAME: str = "Bookshop API"
    API_V1_STR: str = "/api/v1"

    SECRET_KEY: str = "super-secret-change-me-123"
    ALGORITHM: str = "HS256"
    ACCESS_TOKEN_EXPIRE_MINUTES: int = 60 * 24

    DATABASE_URL: str = "postgresql+psycopg://localhost/bookshop"
    ASYNC_DATABASE_URL: str = "postgresql+asyncpg://localhost/bookshop"

    EXCHANGE_RATE_API_URL: str = "https://api.exchangerate.host/latest"

    EMAILS_ENABLED: bool = False
    EMAILS_FROM: str = "no-reply@bookshop.example"


settings = Settings()
