"""Argoverse 2 object classes -> nuScenes-style category names.

Checks recognise classes by nuScenes name prefixes (``human.`` for people, ``vehicle.bicycle``,
``movable_object.barrier``, ...), so the AV2 loader names every box with the nuScenes category it
corresponds to. Where nuScenes has the same class, its name is used as is; where AV2 is finer or has a class
nuScenes lacks, the AV2 class is appended (lower case) under the nuScenes parent it belongs to, so that no
two AV2 classes share a name and the AV2 class can always be read back (:data:`AV2_FROM_CATEGORY`).

Notes on the choices:

- AV2 ``BICYCLIST``/``MOTORCYCLIST``/``WHEELED_RIDER`` boxes hold the *person* riding (the vehicle has its
  own ``BICYCLE``/``MOTORCYCLE`` box), so they are people: ``human.rider.*``. nuScenes draws one box around
  bicycle and rider; AV2 draws two.
- AV2 ``PEDESTRIAN`` does not tell adults from children: ``human.pedestrian.pedestrian``.
- ``REGULAR_VEHICLE`` (cars, vans, SUVs, pick-ups) is ``vehicle.car``.
"""

from __future__ import annotations

#: AV2 ``category`` -> nuScenes-style category name (the 30 classes of the AV2 sensor dataset).
AV2_CATEGORIES: dict[str, str] = {
    "REGULAR_VEHICLE": "vehicle.car",
    "LARGE_VEHICLE": "vehicle.large_vehicle",
    "BUS": "vehicle.bus.rigid",
    "ARTICULATED_BUS": "vehicle.bus.bendy",
    "SCHOOL_BUS": "vehicle.bus.school_bus",
    "TRUCK": "vehicle.truck",
    "BOX_TRUCK": "vehicle.truck.box_truck",
    "TRUCK_CAB": "vehicle.truck.truck_cab",
    "VEHICULAR_TRAILER": "vehicle.trailer",
    "MESSAGE_BOARD_TRAILER": "vehicle.trailer.message_board_trailer",
    "TRAFFIC_LIGHT_TRAILER": "vehicle.trailer.traffic_light_trailer",
    "RAILED_VEHICLE": "vehicle.railed_vehicle",
    "BICYCLE": "vehicle.bicycle",
    "MOTORCYCLE": "vehicle.motorcycle",
    "WHEELED_DEVICE": "vehicle.wheeled_device",
    "PEDESTRIAN": "human.pedestrian.pedestrian",
    "WHEELCHAIR": "human.pedestrian.wheelchair",
    "STROLLER": "human.pedestrian.stroller",
    "OFFICIAL_SIGNALER": "human.pedestrian.official_signaler",
    "BICYCLIST": "human.rider.bicyclist",
    "MOTORCYCLIST": "human.rider.motorcyclist",
    "WHEELED_RIDER": "human.rider.wheeled_rider",
    "DOG": "animal.dog",
    "ANIMAL": "animal",
    "CONSTRUCTION_CONE": "movable_object.trafficcone",
    "CONSTRUCTION_BARREL": "movable_object.construction_barrel",
    "MOBILE_PEDESTRIAN_CROSSING_SIGN": "movable_object.mobile_pedestrian_crossing_sign",
    "BOLLARD": "static_object.bollard",
    "SIGN": "static_object.sign",
    "STOP_SIGN": "static_object.stop_sign",
}

#: nuScenes-style name -> AV2 class (the mapping is one to one).
AV2_FROM_CATEGORY: dict[str, str] = {name: av2 for av2, name in AV2_CATEGORIES.items()}
