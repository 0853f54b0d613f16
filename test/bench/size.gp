# Push throughput for each shape of site (accounts / percent with a number / contacts).
# gnuplot -e "csv='size.csv'; png='size.png'" size.gp
set datafile separator ","
set terminal pngcairo size 900,450 font ",10"
set output png
set xlabel "site: accounts / with a number / address-book entries"
set ylabel "requests per second"
set yrange [0:*]
set grid ytics
set key bottom left
set xtics rotate by -30
set title "txtpushd throughput against the shape of the site (c=16)"
label(c) = sprintf("%s / %d%% / %s", strcol(1), column(2), strcol(3))
plot csv using 0:9:xtic(label(0)) every ::1 with linespoints lw 2 pt 7 title "status1 (1 status update)", \
     csv using 0:10 every ::1 with linespoints lw 2 pt 5 title "mixed50 (25 statuses + 25 inbound SMS)"
