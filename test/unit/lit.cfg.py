# -*- Python -*-
# GoogleTest binaries (one per area, named *Tests) run as lit tests, so the
# one test command counts every unit test case alongside the FileCheck tests.
import os

import lit.formats

config.name = "STRATA-Unit"
config.suffixes = []
config.test_exec_root = os.path.join(config.strata_obj_root, "test", "unit")
config.test_source_root = config.test_exec_root
config.test_format = lit.formats.GoogleTest(".", "Tests")
# Tests that read the calibration set find it here (the in-repo copy).
config.environment["STRATA_REFERENCE_DIR"] = config.reference_dir
config.environment["STRATA_SOURCE_DIR"] = config.strata_src_root
