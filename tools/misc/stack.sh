# The pinned stack, in the order tools/setup_env.sh installs it; sourced by
# setup_env.sh and make_wheelhouse.sh, so online and offline set-ups install
# the same packages. torch is chosen by tools/misc/setup_plan.py.
MMCV_VERSION=2.1.0
# mmcv's setup.py imports pkg_resources, which setuptools 81 removed.
BUILD_TOOLS=("setuptools>=64,<81" "wheel" "ninja")
MMENGINE=("mmengine>=0.10.0,<0.11")
# mmcv 2.1.0's own requirements: the wheelhouse lists them because pip
# cannot read an sdist's requirements for another Python.
MMCV_DEPS=(addict numpy packaging Pillow pyyaml yapf opencv-python)
# faster-coco-eval backs FasterCocoMetric, our configs' COCO metric; then
# the test tools (pytest, import-linter, ruff).
STACK=("mmdet==3.3.0" pycocotools "faster-coco-eval==1.8.0"
       "pytest>=7" "pytest-xdist>=3" "import-linter>=2.1" "ruff>=0.6")
# openmim's declared dependencies pull openxlab, which pins setuptools~=60.2
# and so conflicts with torch; these are the modules mim's commands import.
MIM=("openmim==0.3.9")
MIM_DEPS=("model-index==0.1.11" click colorama pandas requests rich tabulate)
