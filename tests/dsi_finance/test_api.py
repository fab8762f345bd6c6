"""The JSON API shell: token, /me/, the OpenAPI schema and its docs."""

import pytest
from django.conf import settings
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from dsi_finance.roles import Role
from tests.assertions import assert_sends_to_login
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


@pytest.mark.parametrize("role", list(Role))
def test_me_returns_the_user_and_their_roles(role, cast, api):
    user = cast[role]
    api.force_authenticate(user)
    response = api.get(reverse("api:me"))
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == user.username
    assert body["full_name"] == user.get_full_name()
    assert [r["code"] for r in body["roles"]] == [role.value]
    assert "use_app" in body["capabilities"]


def test_me_lists_the_capabilities_of_the_role(directeur, api):
    api.force_authenticate(directeur)
    capabilities = set(api.get(reverse("api:me")).json()["capabilities"])
    assert "override_available" in capabilities
    assert "prepare_budget" not in capabilities


def test_me_answers_401_to_an_anonymous_caller(api):
    response = api.get(reverse("api:me"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert "Informations d'authentification non fournies" in response.json()["detail"]


def test_me_answers_403_to_an_account_without_a_role(sans_role, api):
    api.force_authenticate(sans_role)
    response = api.get(reverse("api:me"))
    assert response.status_code == 403
    assert "Votre rôle ne permet pas cette action" in response.json()["detail"]


def test_me_is_read_only(chef, api):
    api.force_authenticate(chef)
    assert api.post(reverse("api:me"), {}).status_code == 405


def test_a_token_is_given_for_a_right_username_and_password(chef, api):
    response = api.post(
        reverse("api:token"), {"username": "chef", "password": TEST_PASSWORD}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert token == Token.objects.get(user=chef).key


def test_the_same_token_is_given_twice(chef, api):
    payload = {"username": "chef", "password": TEST_PASSWORD}
    first = api.post(reverse("api:token"), payload, format="json").json()["token"]
    second = api.post(reverse("api:token"), payload, format="json").json()["token"]
    assert first == second
    assert Token.objects.filter(user=chef).count() == 1


def test_the_token_authenticates_api_calls(chef, api):
    token = api.post(
        reverse("api:token"), {"username": "chef", "password": TEST_PASSWORD}, format="json"
    ).json()["token"]
    caller = APIClient()
    caller.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert caller.get(reverse("api:me")).json()["username"] == "chef"


def test_a_wrong_password_gets_a_french_message_and_no_token(chef, api):
    response = api.post(
        reverse("api:token"), {"username": "chef", "password": "faux"}, format="json"
    )
    assert response.status_code == 400
    assert "Impossible de se connecter avec les informations" in str(response.json())
    assert not Token.objects.exists()


def test_a_token_request_without_password_says_what_is_missing(api):
    response = api.post(reverse("api:token"), {"username": "chef"}, format="json")
    assert response.status_code == 400
    assert response.json()["password"] == ["Ce champ est obligatoire."]


def test_a_wrong_token_is_refused_with_401(api):
    api.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef")
    response = api.get(reverse("api:me"))
    assert response.status_code == 401
    assert "Token non valide" in response.json()["detail"]


def test_token_request_refuses_get(api):
    assert api.get(reverse("api:token")).status_code == 405


@pytest.mark.parametrize("role", list(Role))
def test_the_openapi_schema_is_served_to_each_role(role, cast, api):
    api.force_authenticate(cast[role])
    response = api.get(reverse("api-schema"), {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "DSI Finance API"
    assert "/api/v1/me/" in schema["paths"]
    assert "/api/v1/auth/token/" in schema["paths"]


def test_the_schema_answers_401_to_anonymous_and_403_without_a_role(sans_role, api):
    assert api.get(reverse("api-schema")).status_code == 401
    api.force_authenticate(sans_role)
    assert api.get(reverse("api-schema")).status_code == 403


def test_the_docs_page_uses_local_assets_only(chef, client_as):
    response = client_as(chef).get(reverse("api-docs"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn" not in page.lower()


def test_the_docs_page_sends_anonymous_visitors_to_login(client):
    assert_sends_to_login(client.get(reverse("api-docs")))


def test_the_docs_page_refuses_an_account_without_a_role(sans_role, client_as):
    response = client_as(sans_role).get(reverse("api-docs"))
    assert response.status_code == 403
    assert "Accès refusé" in response.content.decode()


def test_token_requests_are_throttled_per_address(chef, api):
    limit = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["auth-token"].split("/")[0])
    payload = {"username": "chef", "password": TEST_PASSWORD}
    responses = [api.post(reverse("api:token"), payload, format="json") for _ in range(limit + 1)]
    assert [r.status_code for r in responses[:limit]] == [200] * limit
    assert responses[limit].status_code == 429
    assert "Requête ralentie" in responses[limit].json()["detail"]


def test_the_api_root_lists_the_endpoints(controleur, api):
    api.force_authenticate(controleur)
    response = api.get(reverse("api:api-root"))
    assert response.status_code == 200
    assert response.json() == {
        "fiscal-years": "http://testserver/api/v1/fiscal-years/",
        "budget-lines": "http://testserver/api/v1/budget-lines/",
        "revisions": "http://testserver/api/v1/revisions/",
        "suppliers": "http://testserver/api/v1/suppliers/",
        "purchase-requests": "http://testserver/api/v1/purchase-requests/",
        "commitments": "http://testserver/api/v1/commitments/",
        "purchase-orders": "http://testserver/api/v1/purchase-orders/",
        "receipts": "http://testserver/api/v1/receipts/",
        "invoices": "http://testserver/api/v1/invoices/",
        "reports": "http://testserver/api/v1/reports/",
        "auth/token": "http://testserver/api/v1/auth/token/",
        "me": "http://testserver/api/v1/me/",
        "dashboard": "http://testserver/api/v1/dashboard/",
    }


def test_the_api_root_answers_401_to_anonymous_and_403_without_a_role(sans_role, api):
    assert api.get(reverse("api:api-root")).status_code == 401
    api.force_authenticate(sans_role)
    assert api.get(reverse("api:api-root")).status_code == 403


def test_the_openapi_schema_is_valid_and_generates_without_warning(tmp_path):
    """drf-spectacular validates the schema against OpenAPI 3 and fails on any warning,
    such as an endpoint whose serializer it cannot guess."""
    from django.core.management import call_command

    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert "/api/v1/me/:" in target.read_text()
