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


@pytest.mark.parametrize(
    "n, shown",
    [
        (999, "999"),
        (1000, "1.00 k"),
        (61_100_840, "61.10 M"),  # AlexNet's params as torchvision publishes them, 61,100,840
        (999_994, "999.99 k"),  # 999.994 k rounds down at two decimals
        (999_995, "1.00 M"),  # 999.995 k would round up to 1000.00 k
        (999_999, "1.00 M"),
        (-999_999, "-1.00 M"),
        (999_995_000, "1.00 G"),
    ],
)
def test_counts_never_read_1000_of_a_unit(n, shown):
    assert units.count(n) == shown
