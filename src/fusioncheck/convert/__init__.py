"""Writers that convert any supported format into another: nuScenes layout and ASAM OpenLABEL.

Both take a :class:`~fusioncheck.loaders.base.DataSource` and write what its scene model holds, so every
loader's data can be handed to every tool that reads nuScenes (or OpenLABEL).
"""
