"""fusioncheck: check 3D box labels of driving logs against LiDAR, camera and radar data."""

__version__ = "0.1.0"
