// Starts Swagger UI on the docs page. A static file (not an inline script), so the page keeps the
// portal's Content Security Policy ('self' and nonces only).
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  var csrfToken = root.dataset.csrfToken;
  window.ui = SwaggerUIBundle({
    url: root.dataset.schemaUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: false,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "BaseLayout",
    // A signed-in browser tries requests with its session: unsafe methods need the CSRF token.
    requestInterceptor: function (request) {
      if (csrfToken && request.method && ["GET", "HEAD", "OPTIONS"].indexOf(request.method.toUpperCase()) < 0) {
        request.headers["X-CSRFToken"] = csrfToken;
      }
      return request;
    },
  });
})();
