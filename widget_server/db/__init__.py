"""Storage: the asyncpg pool, migrations, the embedded Postgres, and every SQL query (queries/)."""
