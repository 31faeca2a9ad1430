"""The platform API: endpoints for marketplace systems authenticated with a service token, mounted at
/api/v1/platform/ (namespace "platform-api")."""
