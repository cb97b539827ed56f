"""API resources. Register new ones in ``tokenfactory.sdk._client.RESOURCES`` (see ../README.md)."""
