"""The public site: FastAPI and Jinja2, calling domain/ for every rule."""
