"""Identity routes: consistent with the key and the seeded project."""


def test_me_matches_the_seeded_user_and_project(client):
    me = client.get("/api/users/@me/").get_json()
    assert me["email"] == "max@hedgebox.dev" and me["id"] == 1
    assert me["team"]["id"] == 1 and me["team"]["api_token"].startswith("phc_")
    project = client.get("/api/projects/1/").get_json()
    assert project["api_token"] == me["team"]["api_token"] and project["name"] == me["team"]["name"]
    assert me["organization"]["id"] == project["organization"]
    assert client.get(f"/api/users/{me['uuid']}/").get_json() == me
    assert client.get("/api/users/someone-else/").status_code == 404


def test_projects_list_and_current(client):
    listed = client.get("/api/projects/").get_json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == 1
    assert client.get("/api/projects/@current").get_json() == listed["results"][0]
    assert client.get("/api/projects/7/").get_json()["detail"] == "Project not found."


def test_organization_current(client):
    organization = client.get("/api/organizations/@current/").get_json()
    assert organization["name"] == "Hedgebox Inc."
    assert [team["id"] for team in organization["teams"]] == [1]
    assert client.get(f"/api/organizations/{organization['id']}/").get_json() == organization


def test_current_key_describes_itself_without_its_value(client):
    made = client.post("/_mockhog/personal_api_keys", json={"label": "ci", "scopes": ["person:read"]})
    value = made.get_json()["value"]
    assert value.startswith("phx_")
    me = client.get("/api/personal_api_keys/@current/", headers={"Authorization": f"Bearer {value}"})
    body = me.get_json()
    assert me.status_code == 200
    assert body["label"] == "ci" and body["scopes"] == ["person:read"] and body["value"] is None
    assert body["mask_value"] == f"{value[:4]}...{value[-4:]}"


def test_organizations_list(client):
    listed = client.get("/api/organizations/").get_json()
    assert listed["count"] == 1
    assert listed["results"][0] == client.get("/api/organizations/@current/").get_json()
