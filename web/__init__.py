"""Web shell: Jinja2 templates, vendored static assets, zh_CN/en catalogs and the server-rendered pages."""
