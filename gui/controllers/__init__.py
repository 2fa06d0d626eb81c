"""Controllers: connect the core's state to the widgets and the painter, both ways."""
