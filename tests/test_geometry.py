"""skeletal.geometry: golden values, reference numbers, property tests (hypothesis) of every round trip."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skeletal.errors import ConfigError, LayoutError, ShapeError
from skeletal.geometry import (
    Camera,
    axis_angle_to_matrix,
    axis_angle_to_quaternion,
    camera_to_world,
    convert_rotations,
    euler_to_matrix,
    forward_kinematics,
    image_coordinates,
    matrix_to_axis_angle,
    matrix_to_euler,
    matrix_to_quaternion,
    matrix_to_rotation_6d,
    normalize_screen_coordinates,
    procrustes_align,
    procrustes_transform,
    project_to_2d,
    project_to_2d_linear,
    project_to_rotation,
    quaternion_to_axis_angle,
    quaternion_to_matrix,
    rotation_6d_to_matrix,
    rotation_size,
    world_to_camera,
)

SETTINGS = settings(max_examples=40, deadline=None)
finite = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)
# axis-angle vectors with angle below pi (the unique branch), batched (4, 3)
rotvecs = arrays(np.float64, (4, 3), elements=st.floats(-1.8, 1.8, allow_nan=False))
quaternions = arrays(np.float64, (4, 4), elements=finite).filter(lambda q: np.all(np.linalg.norm(q, axis=-1) > 0.1))
points = arrays(np.float64, (5, 3), elements=finite)


def rot_z(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def random_rotations(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return axis_angle_to_matrix(rng.normal(size=(*shape, 3)))


# --- golden values -----------------------------------------------------------------------------------------------


def test_axis_angle_golden_quarter_turn_about_z():
    matrix = axis_angle_to_matrix(np.array([0.0, 0.0, math.pi / 2]))
    np.testing.assert_allclose(matrix, [[0, -1, 0], [1, 0, 0], [0, 0, 1]], atol=1e-12)
    np.testing.assert_allclose(matrix @ np.array([1.0, 0, 0]), [0, 1, 0], atol=1e-12)  # column convention
    quaternion = matrix_to_quaternion(matrix)
    np.testing.assert_allclose(quaternion, [math.cos(math.pi / 4), 0, 0, math.sin(math.pi / 4)], atol=1e-12)
    np.testing.assert_allclose(matrix_to_axis_angle(matrix), [0, 0, math.pi / 2], atol=1e-12)


def test_quaternion_is_scalar_first():
    # (w, x, y, z) = (cos 30deg, sin 30deg, 0, 0) is a 60 degree turn about x
    q = np.array([math.cos(math.pi / 6), math.sin(math.pi / 6), 0.0, 0.0])
    np.testing.assert_allclose(quaternion_to_axis_angle(q), [math.pi / 3, 0, 0], atol=1e-12)
    np.testing.assert_allclose(axis_angle_to_quaternion(np.array([math.pi / 3, 0, 0])), q, atol=1e-12)
    # unnormalised input is normalised first
    np.testing.assert_allclose(quaternion_to_matrix(3 * q), quaternion_to_matrix(q), atol=1e-12)


def test_rotation_sizes_and_unknown_name():
    assert [rotation_size(n) for n in ("matrix", "quaternion", "axis_angle", "rotation_6d", "euler")] == [9, 4, 3, 6, 3]
    with pytest.raises(ConfigError, match="unknown rotation representation"):
        rotation_size("rodrigues")


def test_6d_is_first_two_columns():
    matrix = rot_z(0.4)
    np.testing.assert_allclose(matrix_to_rotation_6d(matrix), np.concatenate([matrix[:, 0], matrix[:, 1]]))
    # Gram-Schmidt of non-orthogonal columns: first column normalised, second orthogonalised
    recovered = rotation_6d_to_matrix(np.array([2.0, 0, 0, 1.0, 3.0, 0]))
    np.testing.assert_allclose(recovered, np.eye(3), atol=1e-12)


def test_euler_matches_martinez_rotmat2euler_numbers():
    """Numbers of ``data_utils.rotmat2euler(expmap2rotmat(r))`` (una-dinosauria/human-motion-prediction).

    The reference adds float32 eps to the angle in ``expmap2rotmat``, hence the 1e-5 tolerance.
    """
    cases = {
        (0.5, 0.0, 0.0): (-0.49999987, 0.0, 0.0),
        (0.0, 0.5, 0.0): (0.0, -0.49999987, 0.0),
        (0.0, 0.0, 0.5): (0.0, 0.0, -0.49999987),
        (0.1, 0.2, 0.3): (-0.06964212, -0.21177097, -0.29384575),
    }
    for expmap, expected in cases.items():
        np.testing.assert_allclose(matrix_to_euler(axis_angle_to_matrix(np.array(expmap))), expected, atol=1e-5)
    # e = (e1, e2, e3) gives (Rz(e3) Ry(e2) Rx(e1)).T: a single x-rotation by a has e1 = -a
    c, s = math.cos(0.3), math.sin(0.3)
    np.testing.assert_allclose(matrix_to_euler(np.array([[1, 0, 0], [0, c, -s], [0, s, c]])), [-0.3, 0, 0], atol=1e-15)


def test_euler_gimbal_lock_branches_as_reference():
    # R[0, 2] == 1: e2 = -pi/2, e3 = 0, e1 = atan2(R[0, 1], R[0, 2]) = 0
    locked_plus = np.array([[0.0, 0.0, 1.0], [0.6, 0.8, 0.0], [-0.8, 0.6, 0.0]])
    np.testing.assert_allclose(matrix_to_euler(locked_plus), [0.0, -math.pi / 2, 0.0])
    # R[0, 2] == -1: e2 = +pi/2, e3 = 0, e1 = atan2(0, -1) = pi (the reference's value)
    locked_minus = np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    np.testing.assert_allclose(matrix_to_euler(locked_minus), [math.pi, math.pi / 2, 0.0])
    # rounding beyond 1 is clamped into the locked branch instead of NaN
    assert np.all(np.isfinite(matrix_to_euler(locked_plus * np.array([[1, 1, 1 + 1e-12], [1, 1, 1], [1, 1, 1]]))))
    grad_input = torch.tensor(locked_plus, requires_grad=True)
    matrix_to_euler(grad_input).sum().backward()
    assert torch.isfinite(grad_input.grad).all()


def test_axis_angle_stable_at_zero_and_near_pi():
    zero = torch.zeros(2, 3, dtype=torch.float64, requires_grad=True)
    matrix = axis_angle_to_matrix(zero)
    (matrix * torch.arange(9.0, dtype=torch.float64).reshape(3, 3)).sum().backward()
    assert torch.isfinite(zero.grad).all()
    np.testing.assert_allclose(matrix.detach().numpy(), np.broadcast_to(np.eye(3), (2, 3, 3)))
    identity = torch.eye(3, dtype=torch.float64).repeat(2, 1, 1).requires_grad_(True)
    back = matrix_to_axis_angle(identity)
    back.sum().backward()
    assert torch.isfinite(identity.grad).all() and torch.allclose(back, torch.zeros(2, 3, dtype=torch.float64))
    for angle in (math.pi - 1e-7, math.pi):
        vector = np.array([0.0, angle / math.sqrt(2), angle / math.sqrt(2)])
        recovered = matrix_to_axis_angle(axis_angle_to_matrix(vector))
        assert abs(np.linalg.norm(recovered) - angle) < 1e-6
        np.testing.assert_allclose(axis_angle_to_matrix(recovered), axis_angle_to_matrix(vector), atol=1e-9)
    near_pi = torch.tensor([[0.0, 0.0, math.pi - 1e-6]], dtype=torch.float64)
    near_pi_matrix = axis_angle_to_matrix(near_pi).requires_grad_(True)
    matrix_to_axis_angle(near_pi_matrix).sum().backward()
    assert torch.isfinite(near_pi_matrix.grad).all()


def test_project_to_rotation():
    rotation = rot_z(0.7)
    np.testing.assert_allclose(project_to_rotation(rotation), rotation, atol=1e-12)
    np.testing.assert_allclose(project_to_rotation(2.5 * rotation), rotation, atol=1e-12)
    noisy = random_rotations((10,), 1) + 0.1 * np.random.default_rng(2).normal(size=(10, 3, 3))
    projected = project_to_rotation(noisy)
    np.testing.assert_allclose(
        projected @ projected.transpose(0, 2, 1), np.broadcast_to(np.eye(3), (10, 3, 3)), atol=1e-10
    )
    np.testing.assert_allclose(np.linalg.det(projected), 1.0, atol=1e-10)
    reflected = project_to_rotation(np.diag([1.0, 1.0, -1.0]))  # det fixed to +1
    assert np.linalg.det(reflected) == pytest.approx(1.0)


def test_kinds_shapes_and_errors():
    batch = torch.randn(2, 5, 3, dtype=torch.float32, requires_grad=True)
    matrix = axis_angle_to_matrix(batch)
    assert isinstance(matrix, torch.Tensor) and matrix.shape == (2, 5, 3, 3) and matrix.dtype == torch.float32
    matrix_to_rotation_6d(matrix).sum().backward()
    assert batch.grad is not None
    assert isinstance(axis_angle_to_matrix(np.zeros((4, 3))), np.ndarray)
    assert convert_rotations(np.zeros((2, 3)), "axis_angle", "matrix", flat_matrix=True).shape == (2, 9)
    assert convert_rotations(np.tile(np.eye(3).reshape(9), (2, 1)), "matrix", "quaternion").shape == (2, 4)
    with pytest.raises(ShapeError, match=r"\(\.\.\., 3\)"):
        axis_angle_to_matrix(np.zeros((4, 4)))
    with pytest.raises(ShapeError):
        convert_rotations(np.zeros((2, 7)), "matrix", "euler")


# --- property tests: round trips -----------------------------------------------------------------------------------


@SETTINGS
@given(rotvecs)
def test_round_trip_axis_angle_matrix(vectors):
    np.testing.assert_allclose(matrix_to_axis_angle(axis_angle_to_matrix(vectors)), vectors, atol=1e-9)


@SETTINGS
@given(quaternions)
def test_round_trip_quaternion_matrix_axis_angle(raw):
    unit = raw / np.linalg.norm(raw, axis=-1, keepdims=True)
    back = matrix_to_quaternion(quaternion_to_matrix(raw))
    # same rotation up to the sign of q
    np.testing.assert_allclose(np.abs((back * unit).sum(-1)), 1.0, atol=1e-9)
    assert np.all(back[:, 0] >= 0)
    via_axis_angle = axis_angle_to_quaternion(quaternion_to_axis_angle(raw))
    np.testing.assert_allclose(np.abs((via_axis_angle * unit).sum(-1)), 1.0, atol=1e-9)


@SETTINGS
@given(rotvecs)
def test_round_trip_6d_and_all_conversions(vectors):
    matrices = axis_angle_to_matrix(vectors)
    np.testing.assert_allclose(rotation_6d_to_matrix(matrix_to_rotation_6d(matrices)), matrices, atol=1e-12)
    names = ("matrix", "quaternion", "axis_angle", "rotation_6d", "euler")
    for source in names:
        x = convert_rotations(matrices, "matrix", source)
        for target in names:
            converted = convert_rotations(x, source, target)
            np.testing.assert_allclose(convert_rotations(converted, target, "matrix"), matrices, atol=1e-8)


@SETTINGS
@given(
    st.floats(-3.1, 3.1),
    st.floats(-1.55, 1.55),
    st.floats(-3.1, 3.1),
)
def test_round_trip_euler(e1, e2, e3):
    angles = np.array([e1, e2, e3])
    np.testing.assert_allclose(matrix_to_euler(euler_to_matrix(angles)), angles, atol=1e-9)


# --- forward kinematics ---------------------------------------------------------------------------------------------


def test_forward_kinematics_golden_chain():
    parents = [-1, 0, 1]
    offsets = np.array([[0.0, 0, 0], [1.0, 0, 0], [1.0, 0, 0]])
    local = np.stack([rot_z(math.pi / 2), np.eye(3), rot_z(math.pi / 2)])
    global_rotations, positions = forward_kinematics(local, offsets, parents, root_positions=np.array([0, 0, 5.0]))
    np.testing.assert_allclose(positions, [[0, 0, 5], [0, 1, 5], [0, 2, 5]], atol=1e-12)
    np.testing.assert_allclose(global_rotations[2], rot_z(math.pi), atol=1e-12)


def _martinez_row_fk(expmaps: np.ndarray, offsets: np.ndarray, parents: list[int]) -> np.ndarray:
    """Row-vector FK as Martinez's ``fkl``: R_glob = R(w) @ R_glob[parent], p = offset @ R_glob[parent] + p[parent]."""
    rotations: dict[int, np.ndarray] = {}
    positions = np.zeros((len(parents), 3))
    for joint, parent in enumerate(parents):  # parents sorted in this helper
        local = axis_angle_to_matrix(expmaps[joint])
        if parent == -1:
            rotations[joint], positions[joint] = local, offsets[joint]
        else:
            rotations[joint] = local @ rotations[parent]
            positions[joint] = offsets[joint] @ rotations[parent] + positions[parent]
    return positions


def test_forward_kinematics_matches_row_vector_convention_with_negated_expmap():
    rng = np.random.default_rng(3)
    parents = [-1, 0, 1, 2, 0, 4, 0]
    offsets = rng.normal(size=(7, 3))
    expmaps = rng.normal(size=(4, 7, 3))
    _, ours = forward_kinematics(axis_angle_to_matrix(-expmaps), offsets, parents)
    reference = np.stack([_martinez_row_fk(e, offsets, parents) for e in expmaps])
    np.testing.assert_allclose(ours, reference, atol=1e-12)
    # with the same (un-negated) rotations the two conventions differ
    _, wrong = forward_kinematics(axis_angle_to_matrix(expmaps), offsets, parents)
    assert np.abs(wrong - reference).max() > 1e-3


def test_forward_kinematics_unsorted_parents_batch_and_gradient():
    parents = [2, 2, -1, 1]  # root is joint 2, joint 3 hangs from joint 1
    offsets = torch.tensor([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 0], [0, 0, 1.0]], dtype=torch.float64)
    vectors = torch.randn(3, 5, 4, 3, dtype=torch.float64, requires_grad=True)
    rotations, positions = forward_kinematics(axis_angle_to_matrix(vectors), offsets, parents)
    assert rotations.shape == (3, 5, 4, 3, 3) and positions.shape == (3, 5, 4, 3)
    bone = (positions[..., 3, :] - positions[..., 1, :]).norm(dim=-1)
    torch.testing.assert_close(bone, torch.ones_like(bone))
    positions.sum().backward()
    assert torch.isfinite(vectors.grad).all()
    with pytest.raises(LayoutError, match="cycle"):
        forward_kinematics(np.tile(np.eye(3), (2, 1, 1)), np.zeros((2, 3)), [1, 0])
    with pytest.raises(LayoutError, match="joints"):
        forward_kinematics(np.tile(np.eye(3), (3, 1, 1)), np.zeros((3, 3)), [-1, 0])


# --- Procrustes -----------------------------------------------------------------------------------------------------


@SETTINGS
@given(arrays(np.float64, (6, 3), elements=st.floats(-1, 1)), rotvecs, st.floats(0.2, 5.0), finite)
def test_procrustes_recovers_original(original, vectors, scale, shift):
    original = original + np.random.default_rng(0).normal(size=(6, 3))  # well spread, non-degenerate
    rotation = axis_angle_to_matrix(vectors[0])
    moved = scale * original @ rotation.T + np.array([shift, -shift, 2 * shift])
    np.testing.assert_allclose(procrustes_align(moved, original), original, atol=1e-8)
    estimated_rotation, estimated_scale, _ = procrustes_transform(original, moved)
    np.testing.assert_allclose(estimated_rotation, rotation, atol=1e-8)
    assert estimated_scale == pytest.approx(scale)


def test_procrustes_reflection_and_rigid_options():
    rng = np.random.default_rng(4)
    original = rng.normal(size=(2, 8, 3))
    mirrored = original * np.array([1.0, 1.0, -1.0])
    assert np.abs(procrustes_align(mirrored, original) - original).max() > 0.1
    np.testing.assert_allclose(procrustes_align(mirrored, original, reflection=True), original, atol=1e-9)
    rotation, scale, _ = procrustes_transform(mirrored, original)
    assert np.allclose(np.linalg.det(rotation), 1.0)
    scaled = 2.0 * original
    rigid = procrustes_align(scaled, original, scale=False)
    np.testing.assert_allclose(rigid - rigid.mean(1, keepdims=True), 2 * (original - original.mean(1, keepdims=True)))


# --- cameras --------------------------------------------------------------------------------------------------------


def test_projection_golden_values():
    point = np.array([0.1, 0.2, 2.0])  # (u, v) = (0.05, 0.1), r2 = 0.0125
    plain = np.array([1000.0, 1000.0, 500.0, 500.0, 0, 0, 0, 0, 0])
    np.testing.assert_allclose(project_to_2d(point, plain), [550.0, 600.0])
    np.testing.assert_allclose(project_to_2d_linear(point, plain), [550.0, 600.0])
    radial = plain.copy()
    radial[4] = 0.1  # 1 + k1 r2 = 1.00125
    np.testing.assert_allclose(project_to_2d(point, radial), [550.0625, 600.125])
    tangential = radial.copy()
    tangential[7:] = [0.01, 0.02]  # p.u = 0.0025; u' = u * 1.00375 + p * 0.0125
    np.testing.assert_allclose(project_to_2d(point, tangential), [550.3125, 600.625])
    # per-sample intrinsics (N, 9) apply to points (N, J, 3), as in VideoPose3D
    batched = project_to_2d(np.stack([np.tile(point, (4, 1))] * 2), np.stack([plain, tangential]))
    np.testing.assert_allclose(batched[0], np.tile([550.0, 600.0], (4, 1)))
    np.testing.assert_allclose(batched[1], np.tile([550.3125, 600.625], (4, 1)))


def test_screen_normalisation_golden():
    corners = np.array([[0.0, 0.0], [1000.0, 1002.0]])
    np.testing.assert_allclose(normalize_screen_coordinates(corners, 1000, 1002), [[-1, -1.002], [1, 1.002]])
    torch_corners = torch.tensor(corners, dtype=torch.float32)
    assert torch.allclose(
        normalize_screen_coordinates(torch_corners, 1000, 1002), torch.tensor([[-1, -1.002], [1, 1.002]])
    )


@SETTINGS
@given(points, quaternions, arrays(np.float64, (3,), elements=finite))
def test_round_trip_world_camera(world, raw_quaternion, translation):
    q = raw_quaternion[0]
    camera_points = world_to_camera(world, q, translation)
    np.testing.assert_allclose(camera_to_world(camera_points, q, translation), world, atol=1e-9)
    # distances are preserved (rigid transform)
    np.testing.assert_allclose(np.linalg.norm(camera_points[1:] - camera_points[:1], axis=-1),
                               np.linalg.norm(world[1:] - world[:1], axis=-1), atol=1e-9)  # fmt: skip


@SETTINGS
@given(arrays(np.float64, (7, 2), elements=st.floats(0, 2000)), st.integers(100, 2000), st.integers(100, 2000))
def test_round_trip_screen_coordinates(pixels, width, height):
    normalised = normalize_screen_coordinates(pixels, width, height)
    np.testing.assert_allclose(image_coordinates(normalised, width, height), pixels, atol=1e-9)


def test_camera_dataclass_projects_and_normalises():
    quarter_turn = np.array([math.cos(math.pi / 4), 0.0, 0.0, math.sin(math.pi / 4)])  # about z
    intrinsics = np.array([1145.0, 1144.0, 512.5, 515.5, -0.2, 0.24, -0.003, -0.0007, -0.0013])
    camera = Camera(intrinsics, rotation=quarter_turn, translation=np.array([0.0, 0.0, -3.0]), width=1000, height=1002)
    world = np.array([[0.2, -0.1, 0.5], [0.0, 0.0, 0.0]])
    in_camera = camera.world_to_camera(world)
    # R(q)^T (X - t) with R = 90 degrees about z: (x, y, z) -> (y, -x, z + 3)
    np.testing.assert_allclose(in_camera, [[-0.1, -0.2, 3.5], [0.0, 0.0, 3.0]], atol=1e-12)
    pixels = camera.project(world)
    np.testing.assert_allclose(pixels, project_to_2d(in_camera, intrinsics))
    np.testing.assert_allclose(pixels[1], intrinsics[2:4])  # the optical axis hits the principal point
    normalised = project_to_2d(in_camera, camera.normalized_intrinsics())
    np.testing.assert_allclose(normalised, normalize_screen_coordinates(pixels, 1000, 1002), atol=1e-12)
    torch_pixels = camera.project(torch.tensor(world, dtype=torch.float32))
    assert isinstance(torch_pixels, torch.Tensor) and torch_pixels.dtype == torch.float32
    with pytest.raises(ShapeError, match="intrinsics"):
        Camera(np.zeros(4))
