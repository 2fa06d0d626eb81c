"""convviz GUI: a state model, thin PySide6/pyqtgraph views, a controller and one scene renderer."""
