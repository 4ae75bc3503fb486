"""Rotations, forward kinematics, Procrustes alignment and cameras; batched, differentiable, torch and numpy.

Every function takes numpy arrays or torch tensors and returns the kind of its first array argument; torch
inputs keep their gradients. Matrices act on column vectors; quaternions are ``(w, x, y, z)``.
"""

from skeletal.geometry.camera import (
    Camera,
    camera_to_world,
    image_coordinates,
    normalize_screen_coordinates,
    project_to_2d,
    project_to_2d_linear,
    world_to_camera,
)
from skeletal.geometry.kinematics import forward_kinematics, topological_order
from skeletal.geometry.procrustes import procrustes_align, procrustes_transform
from skeletal.geometry.rotations import (
    REPRESENTATIONS,
    axis_angle_to_matrix,
    axis_angle_to_quaternion,
    convert_rotations,
    euler_to_matrix,
    matrix_to_axis_angle,
    matrix_to_euler,
    matrix_to_quaternion,
    matrix_to_rotation_6d,
    project_to_rotation,
    quaternion_to_axis_angle,
    quaternion_to_matrix,
    rotation_6d_to_matrix,
    rotation_size,
)

__all__ = [
    "REPRESENTATIONS",
    "Camera",
    "axis_angle_to_matrix",
    "axis_angle_to_quaternion",
    "camera_to_world",
    "convert_rotations",
    "euler_to_matrix",
    "forward_kinematics",
    "image_coordinates",
    "matrix_to_axis_angle",
    "matrix_to_euler",
    "matrix_to_quaternion",
    "matrix_to_rotation_6d",
    "normalize_screen_coordinates",
    "procrustes_align",
    "procrustes_transform",
    "project_to_2d",
    "project_to_2d_linear",
    "project_to_rotation",
    "quaternion_to_axis_angle",
    "quaternion_to_matrix",
    "rotation_6d_to_matrix",
    "rotation_size",
    "topological_order",
    "world_to_camera",
]
