"""drf-spectacular extensions: how the schema describes the brand API's authentication (tokens and
sessions). Registered on import, by `brands.api.apps.ApiConfig.ready`."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "brands.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <token>`: get one from POST /api/v1/auth/token/ or the portal's API tokens page.",
        }


class BrandSessionScheme(OpenApiAuthenticationExtension):
    target_class = "brands.api.authentication.BrandSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
