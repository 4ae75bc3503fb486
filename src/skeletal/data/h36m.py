"""Human3.6M (Ionescu et al., TPAMI 2014) in the formats the lifting and motion-prediction papers use.

Two formats:

1. **VideoPose3D npz files** (Pavllo et al. 2019, ``facebookresearch/VideoPose3D``, ``data/prepare_data_h36m.py``
   and ``common/h36m_dataset.py``), read by GAST-Net and most lifting work:

   - ``data_3d_h36m.npz``: key ``positions_3d``, a pickled dict ``subject -> action -> (T, 32, 3)`` float32
     world positions in metres at 50 fps;
   - ``data_2d_h36m_<name>.npz``: key ``positions_2d``, a dict ``subject -> action -> [4 arrays (T, 17, 2)]`` in
     pixels, one per camera in the order of :data:`H36M_CAMERA_INTRINSICS`, and ``metadata``, a dict with
     ``layout_name``, ``num_joints`` and ``keypoints_symmetry`` (left joints, right joints).

   Both dicts are stored as pickled numpy object arrays; reading them runs ``pickle``, which can execute code
   hidden in a malicious file. The readers therefore only unpickle the path the caller passes, and only with
   ``allow_pickle=True`` (the default, because the format requires it); pass ``allow_pickle=False`` to refuse
   (:class:`~skeletal.errors.UnsafeFileError`). Only read files from a source you trust.

2. **Exponential-map text files** of the motion-prediction benchmark (Martinez et al. CVPR 2017,
   ``una-dinosauria/human-motion-prediction``): ``S{n}/{action}_{subaction}.txt``, one 50 Hz frame per line, 99
   comma-separated values (root position then 32 exp-maps, layout ``h36m32``); every 2nd frame is kept (25 Hz).
   The test protocol draws 8 windows per action on subject 5 (:func:`srnn_seed_indices`), or 256 windows in
   the variant of Mao et al. (:func:`sample_256_indices`).
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any, cast

import numpy as np

from skeletal.data._safe import check_npz_members, finite_float32, read_text
from skeletal.data.types import Motion
from skeletal.errors import ConfigError, DataError, UnsafeFileError
from skeletal.geometry.camera import Camera, normalize_screen_coordinates
from skeletal.skeletons import get

H36M_FPS = 50.0
H36M_TRAIN_SUBJECTS: tuple[str, ...] = ("S1", "S5", "S6", "S7", "S8")
H36M_TEST_SUBJECTS: tuple[str, ...] = ("S9", "S11")

# VideoPose3D ``remove_joints([4, 5, 9, 10, 11, 16, 20, 21, 22, 23, 24, 28, 29, 30, 31])``: the 17 joints kept
# (layout ``h36m17``), in the order of the 32-joint mocap skeleton (``h36m32``).
H36M17_FROM_32: tuple[int, ...] = (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)

# Camera calibration published with Human3.6M, as listed in VideoPose3D ``common/h36m_dataset.py``
# (``h36m_cameras_intrinsic_params``): pixels; distortion k1, k2, k3 and p1, p2; azimuth only for display.
H36M_CAMERA_INTRINSICS: tuple[dict[str, Any], ...] = (
    {"id": "54138969", "center": (512.54150390625, 515.4514770507812),
     "focal_length": (1145.0494384765625, 1143.7811279296875),
     "radial_distortion": (-0.20709891617298126, 0.24777518212795258, -0.0030751503072679043),
     "tangential_distortion": (-0.0009756988729350269, -0.00142447161488235), "res_w": 1000, "res_h": 1002,
     "azimuth": 70},
    {"id": "55011271", "center": (508.8486328125, 508.0649108886719),
     "focal_length": (1149.6756591796875, 1147.5916748046875),
     "radial_distortion": (-0.1942136287689209, 0.2404085397720337, 0.006819975562393665),
     "tangential_distortion": (-0.0016190266469493508, -0.0027408944442868233), "res_w": 1000, "res_h": 1000,
     "azimuth": -70},
    {"id": "58860488", "center": (519.8158569335938, 501.40264892578125),
     "focal_length": (1149.1407470703125, 1148.7989501953125),
     "radial_distortion": (-0.2083381861448288, 0.25548800826072693, -0.0024604974314570427),
     "tangential_distortion": (0.0014843869721516967, -0.0007599993259645998), "res_w": 1000, "res_h": 1000,
     "azimuth": 110},
    {"id": "60457274", "center": (514.9682006835938, 501.88201904296875),
     "focal_length": (1145.5113525390625, 1144.77392578125),
     "radial_distortion": (-0.198384091258049, 0.21832367777824402, -0.008947807364165783),
     "tangential_distortion": (-0.0005872055771760643, -0.0018133620033040643), "res_w": 1000, "res_h": 1002,
     "azimuth": -110},
)  # fmt: skip

# Extrinsics per subject and camera (``h36m_cameras_extrinsic_params``): orientation quaternion (w, x, y, z) of
# the camera in the world and its position in millimetres. S2, S3 and S4 are not in the public release.
H36M_CAMERA_EXTRINSICS: dict[str, tuple[tuple[tuple[float, ...], tuple[float, ...]], ...]] = {
    "S1": (
        (
            (0.1407056450843811, -0.1500701755285263, -0.755240797996521, 0.6223280429840088),
            (1841.1070556640625, 4955.28466796875, 1563.4454345703125),
        ),
        (
            (0.6157187819480896, -0.764836311340332, -0.14833825826644897, 0.11794740706682205),
            (1761.278564453125, -5078.0068359375, 1606.2650146484375),
        ),
        (
            (0.14651472866535187, -0.14647851884365082, 0.7653023600578308, -0.6094175577163696),
            (-1846.7777099609375, 5215.04638671875, 1491.972412109375),
        ),
        (
            (0.5834008455276489, -0.7853162288665771, 0.14548823237419128, -0.14749594032764435),
            (-1794.7896728515625, -3722.698974609375, 1574.8927001953125),
        ),
    ),
    "S5": (
        (
            (0.1467377245426178, -0.162370964884758, -0.7551892995834351, 0.6178938746452332),
            (2097.3916015625, 4880.94482421875, 1605.732421875),
        ),
        (
            (0.6159758567810059, -0.7626792192459106, -0.15728192031383514, 0.1189815029501915),
            (2031.7008056640625, -5167.93310546875, 1612.923095703125),
        ),
        (
            (0.14291371405124664, -0.12907841801643372, 0.7678384780883789, -0.6110143065452576),
            (-1620.5948486328125, 5171.65869140625, 1496.43701171875),
        ),
        (
            (0.5920479893684387, -0.7814217805862427, 0.1274748593568802, -0.15036417543888092),
            (-1637.1737060546875, -3867.3173828125, 1547.033203125),
        ),
    ),
    "S6": (
        (
            (0.1337897777557373, -0.15692396461963654, -0.7571090459823608, 0.6198879480361938),
            (1935.4517822265625, 4950.24560546875, 1618.0838623046875),
        ),
        (
            (0.6147197484970093, -0.7628812789916992, -0.16174767911434174, 0.11819244921207428),
            (1969.803955078125, -5128.73876953125, 1632.77880859375),
        ),
        (
            (0.1529948115348816, -0.13529130816459656, 0.7646096348762512, -0.6112781167030334),
            (-1769.596435546875, 5185.361328125, 1476.993408203125),
        ),
        (
            (0.5916101336479187, -0.7804774045944214, 0.12832270562648773, -0.1561593860387802),
            (-1721.668701171875, -3884.13134765625, 1540.4879150390625),
        ),
    ),
    "S7": (
        (
            (0.1435241848230362, -0.1631336808204651, -0.7548328638076782, 0.6188824772834778),
            (1974.512939453125, 4926.3544921875, 1597.8326416015625),
        ),
        (
            (0.6141672730445862, -0.7638262510299683, -0.1596645563840866, 0.1177929937839508),
            (1937.0584716796875, -5119.7900390625, 1631.5665283203125),
        ),
        (
            (0.14550060033798218, -0.12874816358089447, 0.7660516500473022, -0.6127139329910278),
            (-1741.8111572265625, 5208.24951171875, 1464.8245849609375),
        ),
        (
            (0.5912848114967346, -0.7821764349937439, 0.12445473670959473, -0.15196487307548523),
            (-1734.7105712890625, -3832.42138671875, 1548.5830078125),
        ),
    ),
    "S8": (
        (
            (0.14110587537288666, -0.15589867532253265, -0.7561917304992676, 0.619644045829773),
            (2150.65185546875, 4896.1611328125, 1611.9046630859375),
        ),
        (
            (0.6169601678848267, -0.7647668123245239, -0.14846350252628326, 0.11158157885074615),
            (2219.965576171875, -5148.453125, 1613.0440673828125),
        ),
        (
            (0.1471444070339203, -0.13377119600772858, 0.7670128345489502, -0.6100369691848755),
            (-1571.2215576171875, 5137.0185546875, 1498.1761474609375),
        ),
        (
            (0.5927824378013611, -0.7825870513916016, 0.12147816270589828, -0.14631995558738708),
            (-1476.913330078125, -3896.7412109375, 1547.97216796875),
        ),
    ),
    "S9": (
        (
            (0.15540587902069092, -0.15548215806484222, -0.7532095313072205, 0.6199594736099243),
            (2044.45849609375, 4935.1171875, 1481.2275390625),
        ),
        (
            (0.618784487247467, -0.7634735107421875, -0.14132238924503326, 0.11933968216180801),
            (1990.959716796875, -5123.810546875, 1568.8048095703125),
        ),
        (
            (0.13357827067375183, -0.1367100477218628, 0.7689454555511475, -0.6100738644599915),
            (-1670.9921875, 5211.98583984375, 1528.387939453125),
        ),
        (
            (0.5879399180412292, -0.7823407053947449, 0.1427614390850067, -0.14794869720935822),
            (-1696.04345703125, -3827.099853515625, 1591.4127197265625),
        ),
    ),
    "S11": (
        (
            (0.15232472121715546, -0.15442320704460144, -0.7547563314437866, 0.6191070079803467),
            (2098.440185546875, 4926.5546875, 1500.278564453125),
        ),
        (
            (0.6189449429512024, -0.7600917220115662, -0.15300633013248444, 0.1255258321762085),
            (2083.182373046875, -4912.1728515625, 1561.07861328125),
        ),
        (
            (0.14943228662014008, -0.15650227665901184, 0.7681233882904053, -0.6026304364204407),
            (-1609.8153076171875, 5177.3359375, 1537.896728515625),
        ),
        (
            (0.5894251465797424, -0.7818877100944519, 0.13991211354732513, -0.14715361595153809),
            (-1590.738037109375, -3854.1689453125, 1578.017578125),
        ),
    ),
}  # fmt: skip


def h36m_cameras(subject: str) -> list[Camera]:
    """The 4 calibrated cameras of a subject (translation in metres, intrinsics in pixels).

    Raises:
        DataError: For a subject without published calibration (S2, S3, S4 or an unknown name).
    """
    if subject not in H36M_CAMERA_EXTRINSICS:
        raise DataError(f"no camera calibration for subject {subject!r}; known: {', '.join(H36M_CAMERA_EXTRINSICS)}")
    cameras = []
    for intrinsic, (orientation, translation) in zip(H36M_CAMERA_INTRINSICS, H36M_CAMERA_EXTRINSICS[subject]):
        vector = (*intrinsic["focal_length"], *intrinsic["center"], *intrinsic["radial_distortion"],
                  *intrinsic["tangential_distortion"])  # fmt: skip
        cameras.append(
            Camera(
                intrinsics=np.array(vector),
                rotation=np.array(orientation),
                translation=np.array(translation) / 1000.0,
                width=int(intrinsic["res_w"]),
                height=int(intrinsic["res_h"]),
                name=str(intrinsic["id"]),
            )
        )
    return cameras


# ---------------------------------------------------------------------------------------------- npz files
def load_pickled_dict(path: str | PathLike[str], key: str, allow_pickle: bool = True) -> dict[str, Any]:
    """Read one dict-valued entry of a VideoPose3D npz (a 0-d pickled object array).

    Args:
        path: The ``.npz`` file the user passed.
        key: ``"positions_3d"``, ``"positions_2d"`` or ``"metadata"``.
        allow_pickle: Unpickle the entry (needed by the format; runs code from the file: trusted files only).

    Raises:
        DataError: Missing or corrupt file, missing key, or an entry that is not a dict.
        UnsafeFileError: The entry needs unpickling and ``allow_pickle`` is False.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found (expected a VideoPose3D .npz file)", path)
    check_npz_members(path)
    try:
        with np.load(path, allow_pickle=allow_pickle) as archive:
            if key not in archive.files:
                raise DataError(f"missing key {key!r}; the file has {sorted(archive.files)}", path)
            value = archive[key]
    except DataError:
        raise
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise UnsafeFileError(
                f"{path}: key {key!r} is a pickled object; pass allow_pickle=True only for a trusted file"
            ) from None
        raise DataError(f"cannot read the npz archive: {error}", path, f"key {key!r}") from None
    except Exception as error:  # zipfile/pickle errors of a truncated or corrupt file
        raise DataError(f"corrupt or truncated npz archive: {type(error).__name__}: {error}", path) from None
    if not isinstance(value, np.ndarray):  # np.load gives a member that is not an .npy array as raw bytes
        raise DataError(f"entry is not an .npy array (got {type(value).__name__})", path, f"key {key!r}")
    if value.dtype != object or value.shape != ():
        raise DataError(f"expected a pickled dict, got an array {value.dtype} {value.shape}", path, f"key {key!r}")
    result = value.item()
    if not isinstance(result, dict):
        raise DataError(f"expected a dict, got {type(result).__name__}", path, f"key {key!r}")
    if key != "metadata" and not all(isinstance(k, str) and isinstance(v, dict) for k, v in result.items()):
        bad = next(k for k, v in result.items() if not (isinstance(k, str) and isinstance(v, dict)))
        raise DataError("expected a dict subject -> {action -> data}", path, f"key {key!r}, subject {bad!r}")
    return result


def _keep(name: str, wanted: tuple[str, ...] | list[str] | None) -> bool:
    # VideoPose3D's action filter: an action is kept when its name starts with one of the wanted names.
    return wanted is None or any(name.startswith(w) for w in wanted)


def _check_positions(array: Any, num_joints: int, path: Path, where: str, channels: int = 3) -> np.ndarray:
    if not isinstance(array, np.ndarray) or array.ndim != 3 or array.shape[1:] != (num_joints, channels):
        shape = getattr(array, "shape", type(array).__name__)
        raise DataError(f"expected an array (T, {num_joints}, {channels}), got {shape}", path, where)
    if array.shape[0] == 0:
        raise DataError("an empty sequence (0 frames)", path, where)
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise DataError(f"expected a numeric array, got dtype {array.dtype}", path, where)
    finite = finite_float32(array)
    if not finite.all():
        frame = int(np.argwhere(~finite)[0, 0])
        raise DataError(f"NaN or inf coordinates, or beyond float32 range (first at frame {frame})", path, where)
    return array.astype(np.float32, copy=False)


def read_positions_3d(
    path: str | PathLike[str],
    skeleton: str,
    fps: float,
    subjects: tuple[str, ...] | list[str] | None = None,
    actions: tuple[str, ...] | list[str] | None = None,
    keep_joints: tuple[int, ...] | None = None,
    output_skeleton: str | None = None,
    downsample: int = 1,
    allow_pickle: bool = True,
) -> dict[str, dict[str, Motion]]:
    """Generic reader of a VideoPose3D ``positions_3d`` file (shared by Human3.6M and HumanEva).

    Returns:
        ``subject -> action -> Motion`` with ``positions (T', V', 3)`` in metres, world frame.
    """
    path = Path(path)
    data = load_pickled_dict(path, "positions_3d", allow_pickle)
    layout = get(skeleton)
    target = get(output_skeleton or skeleton)
    result: dict[str, dict[str, Motion]] = {}
    for subject in subjects if subjects is not None else data:
        if subject not in data:
            raise DataError(f"subject {subject!r} not in the file; it has {sorted(data)}", path)
        if not isinstance(data[subject], dict):
            raise DataError("expected a dict action -> positions", path, f"subject {subject!r}")
        motions = {}
        for action, positions in data[subject].items():
            if not isinstance(action, str):
                raise DataError(f"action names must be strings, found {action!r}"[:120], path, f"subject {subject!r}")
            if not _keep(action, actions):
                continue
            where = f"subject {subject!r}, action {action!r}"
            positions = _check_positions(positions, layout.num_joints, path, where)
            if keep_joints is not None:
                positions = positions[:, list(keep_joints)]
            motions[action] = Motion(
                skeleton=target,
                fps=fps / downsample,
                positions=np.ascontiguousarray(positions[::downsample]),
                units="m",
                source=str(path),
                meta={"subject": subject, "action": action, "downsample": downsample},
            )
        result[subject] = motions
    return result


def read_positions_2d(
    path: str | PathLike[str],
    num_cameras: int,
    subjects: tuple[str, ...] | list[str] | None = None,
    allow_pickle: bool = True,
) -> tuple[dict[str, dict[str, list[np.ndarray | None]]], dict[str, Any]]:
    """Generic reader of a VideoPose3D ``positions_2d`` file with its ``metadata``.

    Returns:
        ``(keypoints, metadata)``: ``subject -> action -> [one (T, V, C) float32 array per camera, or None for a
        camera without video]`` (pixels; ``C`` is 2, or 3 with a detector score) and the metadata dict.
    """
    path = Path(path)
    metadata = load_pickled_dict(path, "metadata", allow_pickle)
    for field_name in ("layout_name", "num_joints", "keypoints_symmetry"):
        if field_name not in metadata:
            raise DataError(f"metadata lacks {field_name!r}; it has {sorted(metadata)}", path, "key 'metadata'")
    num_joints = metadata["num_joints"]
    if isinstance(num_joints, np.integer):
        num_joints = int(num_joints)
    if type(num_joints) is not int or not 1 <= num_joints <= 1000:
        raise DataError(f"num_joints must be an integer in 1..1000, found {num_joints!r}"[:120], path,
                        "key 'metadata'")  # fmt: skip
    symmetry = metadata["keypoints_symmetry"]
    try:
        left, right = ([int(j) for j in side] for side in symmetry)
        valid = len(left) == len(right) and all(0 <= j < num_joints for j in [*left, *right])
    except (TypeError, ValueError, OverflowError):
        valid = False
    if not valid:
        raise DataError(f"keypoints_symmetry {symmetry!r} does not fit {num_joints} joints"[:200], path,
                        "key 'metadata'")  # fmt: skip
    data = load_pickled_dict(path, "positions_2d", allow_pickle)
    result: dict[str, dict[str, list[np.ndarray | None]]] = {}
    for subject in subjects if subjects is not None else data:
        if subject not in data:
            raise DataError(f"subject {subject!r} not in the file; it has {sorted(data)}", path)
        result[subject] = {}
        if not all(isinstance(action, str) for action in data[subject]):
            raise DataError("action names must be strings", path, f"subject {subject!r}")
        for action, views in data[subject].items():
            where = f"subject {subject!r}, action {action!r}"
            if not isinstance(views, (list, tuple)) or len(views) != num_cameras:
                raise DataError(f"expected a list of {num_cameras} cameras, got {type(views).__name__}", path, where)
            checked: list[np.ndarray | None] = []
            for camera, view in enumerate(views):
                if view is None:
                    checked.append(None)
                    continue
                channels = view.shape[-1] if isinstance(view, np.ndarray) and view.ndim == 3 else 2
                if channels not in (2, 3):
                    channels = 2
                checked.append(_check_positions(view, num_joints, path, f"{where}, camera {camera}", channels))
            result[subject][action] = checked
    return result, metadata


def load_h36m_3d(
    path: str | PathLike[str],
    subjects: tuple[str, ...] | list[str] | None = None,
    actions: tuple[str, ...] | list[str] | None = None,
    joints: int = 17,
    downsample: int = 1,
    allow_pickle: bool = True,
) -> dict[str, dict[str, Motion]]:
    """Read VideoPose3D's ``data_3d_h36m.npz``.

    Args:
        path: The file (trusted: it is unpickled, see the module docstring).
        subjects: Subjects to keep (default all), e.g. :data:`H36M_TRAIN_SUBJECTS`.
        actions: Keep actions whose name starts with one of these (VideoPose3D's ``--actions`` filter).
        joints: 17 (VideoPose3D ``remove_joints``, layout ``h36m17``) or 32 (the full ``h36m32`` skeleton).
        downsample: Keep every ``downsample``-th frame (VideoPose3D ``--downsample``); fps becomes 50 / that.
        allow_pickle: See :func:`load_pickled_dict`.

    Returns:
        ``subject -> action -> Motion`` (world positions in metres).
    """
    if joints not in (17, 32):
        raise ValueError(f"joints must be 17 or 32, got {joints}")
    keep = H36M17_FROM_32 if joints == 17 else None
    return read_positions_3d(path, "h36m32", H36M_FPS, subjects, actions, keep, f"h36m{joints}", downsample,
                             allow_pickle)  # fmt: skip


def load_h36m_2d(
    path: str | PathLike[str],
    subjects: tuple[str, ...] | list[str] | None = None,
    allow_pickle: bool = True,
) -> tuple[dict[str, dict[str, list[np.ndarray | None]]], dict[str, Any]]:
    """Read a VideoPose3D ``data_2d_h36m_*.npz`` (ground truth or detections): 4 cameras per action."""
    return read_positions_2d(path, len(H36M_CAMERA_INTRINSICS), subjects, allow_pickle)


def lifting_pairs(
    positions_3d: dict[str, dict[str, Motion]],
    positions_2d: dict[str, dict[str, list[np.ndarray | None]]],
    cameras: dict[str, list[Camera]] | None = None,
    subjects: tuple[str, ...] | list[str] | None = None,
) -> list[dict[str, Any]]:
    """Pair 2D keypoints and camera-space 3D poses per subject, action and camera, as VideoPose3D prepares them.

    For each camera: the world positions go into the camera frame (``R(q).T (X - t)``) and are made relative to
    the root joint (root set to zero); the 2D keypoints are normalised to screen coordinates with the camera's
    resolution. When the 2D sequence is longer than the mocap (the case in Human3.6M), it is cut to the mocap
    length (VideoPose3D ``run.py``); a shorter one is an error. 3D read with ``downsample`` (recorded in
    ``Motion.meta``) pairs with the 2D frames taken at the same stride.

    Returns:
        A list of dicts with ``keypoints (T, V, 2)`` screen-normalised, ``positions (T, V, 3)`` root-relative
        camera-space metres, ``root (T, 3)`` camera-space root trajectory, ``subject``, ``action``, ``camera``.
    """
    pairs = []
    for subject in subjects if subjects is not None else positions_3d:
        subject_cameras = cameras[subject] if cameras is not None else h36m_cameras(subject)
        for action, motion in positions_3d[subject].items():
            if action not in positions_2d.get(subject, {}):
                raise DataError(f"no 2D keypoints for subject {subject!r}, action {action!r}", motion.source)
            world = motion.positions
            assert world is not None
            root = motion.skeleton.root
            stride = int(motion.meta.get("downsample", 1))
            for index, (camera, keypoints) in enumerate(zip(subject_cameras, positions_2d[subject][action])):
                if keypoints is None:
                    continue
                keypoints = keypoints[::stride]
                if keypoints.shape[0] < world.shape[0]:
                    raise DataError(f"camera {index} has {keypoints.shape[0]} 2D frames for {world.shape[0]} mocap "
                                    f"frames", motion.source, f"subject {subject!r}, action {action!r}")  # fmt: skip
                local = np.asarray(camera.world_to_camera(world.astype(np.float64)), dtype=np.float32)
                points = cast(np.ndarray, normalize_screen_coordinates(  # numpy in, numpy out
                    keypoints[: world.shape[0], :, :2].astype(np.float64), camera.width, camera.height))  # fmt: skip
                pairs.append({"keypoints": points.astype(np.float32), "positions": local - local[:, root : root + 1],
                              "root": local[:, root].copy(), "subject": subject, "action": action,
                              "camera": index})  # fmt: skip
    return pairs


# ---------------------------------------------------------------------------------- exp-map motion prediction
H36M_MOTION_ACTIONS: tuple[str, ...] = (
    "walking", "eating", "smoking", "discussion", "directions", "greeting", "phoning", "posing", "purchases",
    "sitting", "sittingdown", "takingphoto", "waiting", "walkingdog", "walkingtogether",
)  # fmt: skip
"""The 15 actions of Martinez et al.'s ``define_actions`` (file names ``{action}_{1,2}.txt``)."""
H36M_MOTION_TRAIN_SUBJECTS: tuple[int, ...] = (1, 6, 7, 8, 9, 11)
H36M_MOTION_TEST_SUBJECT = 5
H36M_EXPMAP_VALUES = 99
SRNN_SEED = 1234567890
"""The fixed seed of SRNN's ``forecastTrajectories.py`` reused by Martinez et al. and all later work."""


def read_expmap_txt(path: str | PathLike[str]) -> np.ndarray:
    """Read one exp-map file: one frame per line, 99 comma-separated numbers.

    Returns:
        ``(T, 99)`` float32 at the file's 50 Hz (``readCSVasFloat`` of the reference).

    Raises:
        DataError: Missing file, a line with another count of values, a non-number, NaN or a value beyond
            float32 range (the line is named).
    """
    path = Path(path)
    lines = read_text(path, "an H3.6M exp-map .txt file").splitlines()
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        fields = line.strip().split(",")
        if len(fields) != H36M_EXPMAP_VALUES:
            raise DataError(f"expected {H36M_EXPMAP_VALUES} comma-separated values, got {len(fields)}", path,
                            f"line {number}")  # fmt: skip
        try:
            row = [float(field) for field in fields]
        except ValueError:
            raise DataError("a value is not a number", path, f"line {number}") from None
        if not finite_float32(np.asarray(row)).all():  # the result is float32: 1e308 would become inf
            raise DataError("NaN, inf or a value beyond float32 range", path, f"line {number}")
        rows.append(row)
    if not rows:
        raise DataError("the file holds no frames", path)
    return np.asarray(rows, dtype=np.float32)


def load_h36m_expmap(
    root: str | PathLike[str],
    subjects: tuple[int, ...] | list[int] = H36M_MOTION_TRAIN_SUBJECTS,
    actions: tuple[str, ...] | list[str] = H36M_MOTION_ACTIONS,
    subactions: tuple[int, ...] = (1, 2),
    step: int = 2,
) -> dict[tuple[int, str, int], np.ndarray]:
    """Read ``{root}/S{subject}/{action}_{subaction}.txt`` and keep every ``step``-th frame (50 -> 25 Hz).

    As Martinez et al.'s ``load_data``: frames ``0, 2, 4, ...`` (the ``'even'`` sequences).

    Returns:
        ``(subject, action, subaction) -> (T', 99)`` float32.
    """
    root = Path(root)
    data = {}
    for subject in subjects:
        for action in actions:
            if action not in H36M_MOTION_ACTIONS:
                raise ValueError(f"unknown H3.6M action {action!r}; expected one of {H36M_MOTION_ACTIONS}")
            for subaction in subactions:
                values = read_expmap_txt(root / f"S{subject}" / f"{action}_{subaction}.txt")
                data[(subject, action, subaction)] = values[::step]
    return data


def srnn_seed_indices(length_subaction1: int, length_subaction2: int) -> list[int]:
    """The 8 test seeds of one action, exactly as Martinez et al.'s ``find_indices_srnn``.

    A fresh ``np.random.RandomState(1234567890)`` per action draws ``randint(16, T - 150)`` alternately for
    sub-action 1 and 2 (``T`` = length of the 25 Hz sequence; 150 = prefix 50 + suffix 100).

    Returns:
        8 indices; seed ``i`` belongs to sub-action ``i % 2 + 1`` and its forecast starts at ``index + 50``.
    """
    _check_protocol_lengths(length_subaction1, length_subaction2, "SRNN")
    rng = np.random.RandomState(SRNN_SEED)
    lengths = (length_subaction1, length_subaction2)
    return [int(rng.randint(16, lengths[i % 2] - 150)) for i in range(8)]


def _check_protocol_lengths(length1: int, length2: int, protocol: str, source: str = "") -> None:
    """The test protocols draw ``randint(16, T - 150)``: a take of fewer than 167 frames (at 25 Hz) has no seed
    (numpy would raise ``low >= high``)."""
    for subaction, length in ((1, length1), (2, length2)):
        if length < 167:
            raise DataError(f"sub-action {subaction} has {length} frames (at 25 Hz); the {protocol} test protocol "
                            "needs at least 167 (seeds drawn in 16 .. T - 151)", source or None)  # fmt: skip


def _check_window(seed_length: int, after_seed: int) -> None:
    """A window starts ``seed_length`` frames before ``r + 50`` and ends ``after_seed`` frames after it; with
    ``r <= T - 151`` it stays inside every take only when ``seed_length <= 66`` and ``after_seed <= 101``."""
    if not (0 <= seed_length <= 66 and 0 <= after_seed <= 101):
        raise ConfigError(f"a protocol window of {seed_length} seed frames and {after_seed} frames after the seed does "
                          "not fit the takes (at most 66 and 101: seeds are drawn up to T - 151)")  # fmt: skip


def _protocol_takes(
    data: dict[tuple[int, str, int], np.ndarray], subject: int, action: str
) -> tuple[np.ndarray, np.ndarray]:
    missing = [k for k in (1, 2) if (subject, action, k) not in data]
    if missing:
        raise DataError(f"no sub-action {missing[0]} of action {action!r} for subject {subject} (the test protocols "
                        "use sub-actions 1 and 2)")  # fmt: skip
    return data[(subject, action, 1)], data[(subject, action, 2)]


def srnn_windows(
    data: dict[tuple[int, str, int], np.ndarray],
    action: str,
    seed_length: int = 50,
    target_length: int = 25,
    subject: int = H36M_MOTION_TEST_SUBJECT,
) -> np.ndarray:
    """The 8 test windows of an action (Martinez et al. ``get_batch_srnn``).

    Window ``i`` is ``data[(subject, action, i % 2 + 1)][idx - seed_length : idx + target_length]`` with
    ``idx = srnn_seed_indices(...)[i] + 50``. The reference feeds frames ``[:seed_length - 1]`` to its encoder,
    frame ``seed_length - 1`` as the first decoder input and scores frames ``[seed_length:]``.

    Returns:
        ``(8, seed_length + target_length, 99)``.
    """
    first, second = _protocol_takes(data, subject, action)
    _check_window(seed_length, target_length)
    _check_protocol_lengths(first.shape[0], second.shape[0], "SRNN", f"subject {subject}, action {action!r}")
    indices = srnn_seed_indices(first.shape[0], second.shape[0])
    windows = []
    for i, index in enumerate(indices):
        sequence = (first, second)[i % 2]
        start = index + 50
        windows.append(sequence[start - seed_length : start + target_length])
    return np.stack(windows)


def sample_256_indices(
    length_subaction1: int, length_subaction2: int, window_length: int, seed_length: int = 50
) -> tuple[np.ndarray, np.ndarray]:
    """Frame indices of the 256-window test protocol (Mao et al. ICCV 2019, LTD ``find_indices_256``).

    128 pairs drawn with ``RandomState(1234567890)``: ``randint(16, T1 - 150)`` then ``randint(16, T2 - 150)``;
    each window covers ``[r + 50 - seed_length, r + 50 - seed_length + window_length)``. The first 4 pairs are
    the 8 SRNN seeds.

    Returns:
        Two ``(128, window_length)`` index arrays, for sub-action 1 and sub-action 2.
    """
    _check_window(seed_length, window_length - seed_length)
    _check_protocol_lengths(length_subaction1, length_subaction2, "256-window")
    rng = np.random.RandomState(SRNN_SEED)
    starts1, starts2 = [], []
    for _ in range(128):
        starts1.append(rng.randint(16, length_subaction1 - 150))
        starts2.append(rng.randint(16, length_subaction2 - 150))
    offsets = np.arange(window_length)
    first = np.asarray(starts1)[:, None] + 50 - seed_length + offsets
    second = np.asarray(starts2)[:, None] + 50 - seed_length + offsets
    return first, second


def windows_256(
    data: dict[tuple[int, str, int], np.ndarray],
    action: str,
    seed_length: int = 50,
    target_length: int = 25,
    subject: int = H36M_MOTION_TEST_SUBJECT,
) -> np.ndarray:
    """The 256 test windows of an action: 128 from sub-action 1 then 128 from sub-action 2 (LTD order).

    Returns:
        ``(256, seed_length + target_length, 99)``.
    """
    first, second = _protocol_takes(data, subject, action)
    _check_protocol_lengths(first.shape[0], second.shape[0], "256-window", f"subject {subject}, action {action!r}")
    index1, index2 = sample_256_indices(first.shape[0], second.shape[0], seed_length + target_length, seed_length)
    return np.concatenate([first[index1], second[index2]])
