"""The control plane: health and reset."""


def test_health(client):
    body = client.get("/_mockhog/health").get_json()
    assert body["status"] == "ok" and body["seed"] == 0 and body["projects"] == [1]
    assert body["operations"] >= 130


def test_reset_restores_the_seed_state(client, backend):
    seeded = backend.store.dump()
    client.post("/api/projects/1/exports/", json={"insight": 1, "export_format": "text/csv"})
    assert backend.store.dump() != seeded
    assert client.post("/_mockhog/reset").get_json() == {"status": "reset", "seed": 0}
    assert backend.store.dump() == seeded
    again = client.post("/api/projects/1/exports/", json={"insight": 1, "export_format": "text/csv"})
    assert again.get_json()["id"] == 13  # ids restart too
