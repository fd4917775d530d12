"""The portal's routers, one module per area of the site."""
