"""Service dashboards: figures over the tickets the viewer may see, drawn as server-rendered SVG charts."""
