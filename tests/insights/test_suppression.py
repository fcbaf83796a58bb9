"""Small cells: a figure under 5 stories is never given, and a second one is held back where a total would let a
reader work the first out (complementary suppression)."""

from insights.tables import FEWER, Cell, Table, Value, suppress


def one_way(*stories: int) -> Table:
    cells = [Cell(n, n * 360.0) for n in stories]
    return Table(
        name="kind",
        title="Stories by kind",
        rows_are="kind",
        columns_are=None,
        rows=[Value(str(n), str(n)) for n in range(len(stories))],
        row_totals=cells,
        total=Cell(sum(stories), sum(stories) * 360.0),
    )


def test_four_stories_are_fewer_than_5_and_five_are_shown():
    table = suppress(one_way(4, 5, 9))
    four, five, nine = table.row_totals
    assert four.suppressed and four.shown == FEWER and four.count is None and four.hours is None
    # A lone suppressed figure beside a shown total: the smallest other one (5, not 9) goes too.
    assert five.suppressed and five.shown == FEWER
    assert not nine.suppressed and nine.shown == "9" and nine.count == 9 and nine.hours == 0.9


def test_five_stories_are_shown():
    table = suppress(one_way(5, 6))
    assert [cell.shown for cell in table.row_totals] == ["5", "6"]
    assert table.total.shown == "11"


def test_two_small_figures_need_no_third():
    table = suppress(one_way(2, 3, 7, 8))
    assert [cell.suppressed for cell in table.row_totals] == [True, True, False, False]


def test_a_total_under_5_hides_everything_under_it():
    table = suppress(one_way(1, 2))
    assert table.total.suppressed and table.total.shown == FEWER
    assert all(cell.suppressed for cell in table.row_totals)


def crossed(cells: list[list[int]]) -> Table:
    rows, columns = len(cells), len(cells[0])
    return Table(
        name="theme-by-community",
        title="Stories by theme and community",
        rows_are="theme",
        columns_are="community",
        rows=[Value(f"r{n}", f"Row {n}") for n in range(rows)],
        columns=[Value(f"c{n}", f"Column {n}") for n in range(columns)],
        cells=[[Cell(n, 0.0) for n in row] for row in cells],
        row_totals=[Cell(sum(row), 0.0) for row in cells],
        column_totals=[Cell(sum(row[c] for row in cells), 0.0) for c in range(columns)],
        total=Cell(sum(map(sum, cells)), 0.0),
    )


def test_complementary_suppression_in_a_crossed_table_leaves_no_cell_to_subtract():
    table = suppress(crossed([[3, 10, 20], [12, 11, 30], [15, 14, 40]]))
    hidden = [[cell.suppressed for cell in row] for row in table.cells]
    assert hidden[0][0]
    # No row or column with a shown total holds exactly one hidden cell.
    for members, total in table.lines():
        if not total.suppressed:
            assert sum(cell.suppressed for cell in members) != 1
    # Row 0 gives up its smallest other cell (10), column 0 its smallest other cell (12); then each of those lines
    # is fixed in turn.
    assert hidden[0][1] and hidden[1][0]
    assert not table.cells[2][2].suppressed


def test_a_table_with_no_small_cell_hides_nothing():
    table = suppress(crossed([[5, 6], [7, 8]]))
    assert not any(cell.suppressed for cell in table.every_cell())
