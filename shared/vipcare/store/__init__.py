"""Persistence: pynamodb models and repositories. All DynamoDB knowledge lives here."""
