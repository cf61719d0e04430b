"""Facts of the default seed that several tests assert on."""

# The seeded user (fixtures/default.json), as UserBasic.
USER = {
    "id": 1,
    "uuid": "01975a3c-0000-7000-8000-000000000001",
    "distinct_id": "mockhog-user-1",
    "first_name": "Max",
    "last_name": "Hedgehog",
    "email": "max@hedgebox.dev",
    "is_email_verified": True,
    "hedgehog_config": None,
    "role_at_organization": "engineering",
}
