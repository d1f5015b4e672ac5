"""jupyter_kernel_test's protocol checks, filled in for the sigbook kernel.

Run by SigbookKernelTests (Swift), which installs the kernelspec under a temporary prefix and
points JUPYTER_PATH at it; by hand:

    sigbook kernel install --prefix /tmp/k && JUPYTER_PATH=/tmp/k/share/jupyter \
        /tmp/kernelenv/bin/python -m unittest -v Tests/kernel/test_sigbook_kernel.py

(scripts/setup-kernel-tests makes /tmp/kernelenv.)
"""

import unittest

import jupyter_kernel_test


class SigbookKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = "sigbook"
    language_name = "sigbook"
    file_extension = ".sigbook"

    code_hello_world = 'print("hello, world")'

    # The language writes to standard error in one way: time(…) reports how long its argument
    # took there (never among the printed outputs).
    code_stderr = "x = time(1 + 2)"

    completion_samples = [
        {"text": "kmea", "matches": {"kmeans"}},
        {"text": "fit(net, data, epo", "matches": {"epochs:"}},
        {"text": "mlp(2, 4, 2, activation: .ta", "matches": {".tanh"}},
    ]

    complete_code_samples = ["1 + 2", "x = [1, 2]", "for i in [1, 2] {\n  print(i)\n}", ""]
    incomplete_code_samples = ["x = [1,", "fit(net,", "for i in [1, 2] {"]
    invalid_code_samples = ["x = )", "1 +", "print(\"unterminated)"]

    code_inspect_sample = "kmeans"

    code_generate_error = "kmeens(1)"

    code_execute_result = [
        {"code": "1 + 2", "result": "3"},
        {"code": "table(n: [1, 2], name: [\"a\", \"b\"])", "mime": "text/html"},
    ]

    code_display_data = [
        {"code": "line(x: [1, 2, 3], y: [1, 4, 9])", "mime": "image/svg+xml"},
        {"code": "line(x: [1, 2, 3], y: [1, 4, 9])", "mime": "image/png"},
    ]

    supported_history_operations = ("tail", "range", "search")
    code_history_pattern = "1 + *"


if __name__ == "__main__":
    unittest.main()
