"""The commerce service core: settings, database, auth, services. No GraphQL types here."""
