"""Temporal sync: time offsets of labels, cameras and radars against the reference LiDAR."""
