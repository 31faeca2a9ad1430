"""drf-spectacular extensions: how the schema describes the API's authentication."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "marketsafe.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <token>`: get one from POST /api/v1/auth/token/ or the portal's API tokens page.",
        }


class BrandSessionScheme(OpenApiAuthenticationExtension):
    target_class = "marketsafe.api.authentication.BrandSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
