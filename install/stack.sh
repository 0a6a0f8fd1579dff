# The pinned stack, in the order install/setup_env.sh installs it; sourced by
# setup_env.sh and make_wheelhouse.sh, so online and offline set-ups install
# the same packages. torch is chosen by install/setup_plan.py.
MMCV_VERSION=2.1.0
# mmcv's setup.py imports pkg_resources, which setuptools 81 removed.
BUILD_TOOLS=("setuptools>=64,<81" "wheel" "ninja")
# mmengine and mmcv are installed with --no-deps and their requirements
# listed here (from mmengine 0.10.7's METADATA and mmcv 2.1.0's
# requirements/runtime.txt), all but OpenCV: mmengine asks for
# opencv-python, which beside an image's headless, conda or system OpenCV
# is a second package writing the same cv2. pip follows an installed
# package's requirements whenever a later install depends on it (mmcv
# requires mmengine), so neither may be installed with its dependencies.
MMENGINE=("mmengine>=0.10.0,<0.11")
MMENGINE_DEPS=(addict matplotlib numpy pyyaml rich termcolor yapf)
# The wheelhouse lists mmcv's because pip cannot read an sdist's
# requirements for another Python.
MMCV_DEPS=(addict numpy packaging Pillow pyyaml yapf)
# Where `import cv2` fails: the OpenCV that mmcv's setup.py prefers on a
# server (no GUI libraries). Any of OPENCV_DISTS provides cv2.
OPENCV=(opencv-python-headless)
OPENCV_DISTS=(opencv-python opencv-python-headless opencv-contrib-python
              opencv-contrib-python-headless)
# faster-coco-eval backs FasterCocoMetric, our configs' COCO metric;
# tensorboard and wandb back `tools/train.py --track` (docs/tracking.md;
# wandb at the version whose offline mode was checked); then the test tools
# (pytest, import-linter, ruff, and uv, which makes the tests' image
# environments as a GPU image's are made).
STACK=("mmdet==3.3.0" pycocotools "faster-coco-eval==1.8.0"
       "tensorboard>=2.14" "wandb>=0.31,<0.32"
       "pytest>=7" "pytest-xdist>=3" "import-linter>=2.1" "ruff>=0.6"
       "uv>=0.4")
# openmim's declared dependencies pull openxlab, which pins setuptools~=60.2
# and so conflicts with torch; these are the modules mim's commands import.
MIM=("openmim==0.3.9")
MIM_DEPS=("model-index==0.1.11" click colorama pandas requests rich tabulate)

# Sets `opencv` to what the environment of the Python $1 needs: nothing
# where `import cv2` works (whatever installed it), else OPENCV. Stops where
# an OpenCV package is installed but cv2 does not import (often a missing
# libGL): a second package would write over the same cv2.
choose_opencv() {
    local found
    if found=$("$1" -c 'import cv2; print(cv2.__version__, "in", cv2.__file__)' 2>/dev/null); then
        echo "keeping the OpenCV that imports: cv2 $found"
        opencv=()
        return
    fi
    found=$("$1" - "${OPENCV_DISTS[@]}" <<'EOF'
import sys
from importlib import metadata
names = {d.metadata['Name'] for d in metadata.distributions()}
print(' '.join(sorted(n for n in names if n and n.lower().replace('_', '-')
                      in sys.argv[1:])))
EOF
    )
    if [ -n "$found" ]; then
        echo "[setup] error: $found installed but cv2 does not import (see: $1 -c 'import cv2')" >&2
        return 1
    fi
    echo "no cv2: installing ${OPENCV[*]}"
    opencv=("${OPENCV[@]}")
}
