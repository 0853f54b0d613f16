# Throughput against concurrency, one panel per push shape.
# gnuplot -e "csv='results.csv'; png='throughput.png'" plot.gp
set datafile separator ","
set terminal pngcairo size 1100,450 font ",10"
set output png
set multiplot layout 1,2
set logscale x 2
set xlabel "concurrent connections"
set grid
set key top left
do for [shape in "status1 mixed50"] {
    set title shape eq "status1" ? "1-item pushes (req/s)" : "50-item pushes (items/s)"
    col = shape eq "status1" ? 4 : 5
    plot csv using (strcol(1) eq "txtpushd" && strcol(2) eq shape ? $3 : 1/0):(column(col)) with linespoints lw 2 title "txtpushd", \
         csv using (strcol(1) eq "transport" && strcol(2) eq shape ? $3 : 1/0):(column(col)) with linespoints title "transport ceiling (nginx + no-op FastCGI)", \
         csv using (strcol(1) eq "database" && strcol(2) eq shape ? $3 : 1/0):(column(col)) with linespoints title "database ceiling (pgbench)"
}
unset multiplot
