"""The calendar simulator's domain side: how simulated people behave (`model`, `people`), and
what a simulated calendar left behind (`accounting`, `report`, `chart`).

The driver that moves the clock and runs the flows' work lives in the top-level `simulator`
package, because it composes every layer (portal, tasks, domain); these modules need only the
database and the clock.
"""
