# Throughput against concurrency, one panel per push shape (log scales).
# gnuplot -e "csv='results.csv'; png='throughput.png'" plot.gp
set datafile separator ","
set terminal pngcairo size 1100,450 font ",10"
set output png
set multiplot layout 1,2
set logscale xy
set xlabel "concurrent connections"
set xtics (1, 2, 4, 8, 16, 32, 64)
set grid
set key bottom right
series(target, shape) = sprintf("< awk -F, '$1 == \"%s\" && $2 == \"%s\"' %s", target, shape, csv)
do for [shape in "status1 mixed50"] {
    set title shape eq "status1" ? "1-item pushes (req/s)" : "50-item pushes (items/s)"
    col = shape eq "status1" ? 4 : 5
    plot series("txtpushd", shape) using 3:col with linespoints lw 2 pt 7 title "txtpushd", \
         series("transport", shape) using 3:col with linespoints pt 5 title "transport ceiling (nginx + no-op FastCGI)", \
         series("least_sql", shape) using 3:col with linespoints pt 9 title "database ceiling: least SQL, Moodle rows (x: connections)", \
         series("least_ledger", shape) using 3:col with linespoints pt 11 title "database ceiling: least SQL with the ledger (x: connections)", \
         series("own_sql", shape) using 3:col with linespoints dt 2 pt 6 title "txtpushd's own SQL (diagnosis)"
}
unset multiplot
