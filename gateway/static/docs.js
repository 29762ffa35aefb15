// Renders /openapi.json: Swagger UI when its bundle is present, else a plain operation list.
// No inline script (the docs CSP allows scripts from 'self' only) and nothing from a CDN.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (typeof window.SwaggerUIBundle === "function") {
    window.SwaggerUIBundle({
      url: "/openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      validatorUrl: null,
      presets: [window.SwaggerUIBundle.presets.apis]
    });
    return;
  }
  fetch("/openapi.json").then(function (r) { return r.json(); }).then(function (spec) {
    root.textContent = "";
    var box = document.createElement("div");
    box.className = "fallback";
    var h = document.createElement("h1");
    h.textContent = (spec.info && spec.info.title) + " " + (spec.info && spec.info.version);
    box.appendChild(h);
    var list = document.createElement("ul");
    Object.keys(spec.paths || {}).sort().forEach(function (path) {
      Object.keys(spec.paths[path]).forEach(function (method) {
        var op = spec.paths[path][method];
        var li = document.createElement("li");
        var code = document.createElement("code");
        code.textContent = method.toUpperCase() + " " + path;
        li.appendChild(code);
        li.appendChild(document.createTextNode(" " + (op.summary || "")));
        list.appendChild(li);
      });
    });
    box.appendChild(list);
    root.appendChild(box);
  });
})();
