"""The domain: pure rules (models.rules) and the SQLModel tables and repository around them."""
