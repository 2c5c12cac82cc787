"""The nuScenes taxonomy the simulator writes, and the size priors of the classes it simulates.

Category, attribute and visibility names are exactly nuScenes' (``category.json``, ``attribute.json``,
``visibility.json``); the descriptions are short paraphrases. Size priors are the approximate public
class means of the nuScenes training set (``length, width, height`` in metres; nuScenes itself stores
``width, length, height``) with a relative spread per axis. nuScenes' ``vehicle.bicycle`` mean (1.28 m
high) mixes ridden and parked bicycles; the simulator splits them (with rider 1.62 m, parked 1.05 m).
"""

from __future__ import annotations

from dataclasses import dataclass

from fusioncheck.simulate.determinism import static_token

#: All 23 nuScenes categories with a short description, in nuScenes order.
CATEGORIES: tuple[tuple[str, str], ...] = (
    ("animal", "Animal."),
    ("human.pedestrian.adult", "Adult pedestrian."),
    ("human.pedestrian.child", "Child pedestrian."),
    ("human.pedestrian.construction_worker", "Construction worker."),
    ("human.pedestrian.personal_mobility", "Person on a scooter, segway or skateboard."),
    ("human.pedestrian.police_officer", "Police officer."),
    ("human.pedestrian.stroller", "Stroller."),
    ("human.pedestrian.wheelchair", "Wheelchair."),
    ("movable_object.barrier", "Temporary road barrier."),
    ("movable_object.debris", "Debris on the road."),
    ("movable_object.pushable_pullable", "Cart, bin or dolly a pedestrian can push or pull."),
    ("movable_object.trafficcone", "Traffic cone or pylon."),
    ("static_object.bicycle_rack", "Bicycle rack."),
    ("vehicle.bicycle", "Bicycle, with or without rider."),
    ("vehicle.bus.bendy", "Articulated bus."),
    ("vehicle.bus.rigid", "Rigid bus."),
    ("vehicle.car", "Passenger car, van or SUV."),
    ("vehicle.construction", "Construction vehicle."),
    ("vehicle.emergency.ambulance", "Ambulance."),
    ("vehicle.emergency.police", "Police vehicle."),
    ("vehicle.motorcycle", "Motorcycle or moped."),
    ("vehicle.trailer", "Trailer or towed object."),
    ("vehicle.truck", "Vehicle built to haul cargo, including pick-ups."),
)

CATEGORY_NAMES: frozenset[str] = frozenset(name for name, _ in CATEGORIES)

#: The 8 nuScenes attributes with a short description.
ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("cycle.with_rider", "Bicycle or motorcycle with a rider."),
    ("cycle.without_rider", "Bicycle or motorcycle without a rider."),
    ("pedestrian.moving", "Pedestrian is moving."),
    ("pedestrian.standing", "Pedestrian is standing."),
    ("pedestrian.sitting_lying_down", "Pedestrian is sitting or lying down."),
    ("vehicle.moving", "Vehicle is moving."),
    ("vehicle.parked", "Vehicle is parked."),
    ("vehicle.stopped", "Vehicle is stopped, e.g. at a light."),
)

#: nuScenes visibility bins: token, level, description. Tokens are the strings "1".."4" as in nuScenes.
VISIBILITIES: tuple[tuple[str, str, str], ...] = (
    ("1", "v0-40", "visibility of whole object is between 0 and 40%"),
    ("2", "v40-60", "visibility of whole object is between 40 and 60%"),
    ("3", "v60-80", "visibility of whole object is between 60 and 80%"),
    ("4", "v80-100", "visibility of whole object is between 80 and 100%"),
)

#: Speed (m/s) below which a lane vehicle counts as stopped and a pedestrian as standing.
MOVING_SPEED_MPS = 0.3


@dataclass(frozen=True)
class ClassPrior:
    """Size prior and sensor response of one simulated class.

    Attributes:
        category: nuScenes category name.
        size_lwh_m: mean ``(length, width, height)`` in metres.
        spread_rel: relative standard deviation of each axis.
        lidar_reflectivity: 0..1, scales LiDAR intensity.
        radar_rcs_dbsm: mean radar cross-section, dBsm.
        radar_returns: expected radar returns at 25 m and closer (fewer farther away).
    """

    category: str
    size_lwh_m: tuple[float, float, float]
    spread_rel: tuple[float, float, float]
    lidar_reflectivity: float
    radar_rcs_dbsm: float
    radar_returns: float


#: Priors of the simulated classes (keys are the shape names used by ``world``).
CLASS_PRIORS: dict[str, ClassPrior] = {
    "car": ClassPrior("vehicle.car", (4.63, 1.96, 1.74), (0.07, 0.05, 0.08), 0.25, 8.0, 3.0),
    "truck": ClassPrior("vehicle.truck", (6.94, 2.52, 2.85), (0.18, 0.07, 0.12), 0.30, 15.0, 5.0),
    "bus": ClassPrior("vehicle.bus.rigid", (11.2, 2.94, 3.47), (0.08, 0.03, 0.05), 0.30, 18.0, 6.0),
    "motorcycle": ClassPrior("vehicle.motorcycle", (2.11, 0.77, 1.47), (0.08, 0.08, 0.06), 0.30, 3.0, 1.5),
    "bicycle": ClassPrior("vehicle.bicycle", (1.70, 0.60, 1.62), (0.06, 0.08, 0.05), 0.30, 0.0, 1.2),
    "bicycle_parked": ClassPrior("vehicle.bicycle", (1.70, 0.60, 1.05), (0.06, 0.08, 0.06), 0.30, -2.0, 0.8),
    "pedestrian": ClassPrior(
        "human.pedestrian.adult", (0.73, 0.67, 1.77), (0.12, 0.10, 0.06), 0.20, -5.0, 1.0
    ),
    "cone": ClassPrior("movable_object.trafficcone", (0.41, 0.41, 1.07), (0.10, 0.10, 0.10), 0.80, -8.0, 0.5),
    "barrier": ClassPrior("movable_object.barrier", (0.50, 2.53, 0.98), (0.15, 0.12, 0.08), 0.60, -2.0, 1.0),
}


def category_token(name: str) -> str:
    """Token of a category record (the same in every simulated log)."""
    return static_token("category", name)


def attribute_token(name: str) -> str:
    """Token of an attribute record (the same in every simulated log)."""
    return static_token("attribute", name)
