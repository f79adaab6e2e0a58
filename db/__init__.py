"""Database layer: models, embedded server, migrations, acting-as-user sessions."""
