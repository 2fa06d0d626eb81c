"""Python source that makes Qt unimportable, for tests that run code in a fresh interpreter.

``NO_QT`` is the prelude; ``NO_QT_MAIN`` runs ``gui.app.main`` after it with the command line given
to ``python -c`` and fails if PySide6 was imported all the same.
"""

NO_QT = """
import importlib.abc, sys

class NoQt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6', 'superqt'):
            raise ImportError(f'{name} is absent here')
        return None

sys.meta_path.insert(0, NoQt())
"""

NO_QT_MAIN = NO_QT + """
from gui.app import main
code = main(sys.argv)
assert not any(n.split('.')[0] in ('PySide6', 'shiboken6') for n in sys.modules), 'Qt was imported'
sys.exit(code)
"""
