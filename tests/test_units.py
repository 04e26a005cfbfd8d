"""Human units: where a figure switches unit. Expected strings are worked out by hand (1 KiB = 1024 B)."""
import pytest

from cnncost import units


@pytest.mark.parametrize(
    "n, shown",
    [
        (999, "999 B"),
        (1000, "0.98 KiB"),  # 1000 / 1024 = 0.9766
        (802_816, "784.0 KiB"),  # 802,816 / 1024 = 784
        (1_023_999, "0.98 MiB"),  # 1,023,999 / 1024 = 999.999 KiB: reads as 1000.0 KiB in one decimal
        (1_024_000, "0.98 MiB"),  # 1000 KiB = 1,024,000 / 1,048,576 MiB = 0.9766 MiB
        (1_048_576, "1.0 MiB"),
        (5 * 2**30, "5.0 GiB"),
    ],
)
def test_sizes_never_read_1000_of_a_unit(n, shown):
    assert units.size(n) == shown
