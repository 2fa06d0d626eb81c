"""The application core: Qt-free state, frames, rules and files."""
