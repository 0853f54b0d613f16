# Push throughput against the number of users (log x).
# gnuplot -e "csv='size.csv'; png='size.png'" size.gp
set datafile separator ","
set terminal pngcairo size 700,450 font ",10"
set output png
set logscale x
set xlabel "Moodle users"
set ylabel "requests per second"
set yrange [0:*]
set grid
set key bottom left
set title "txtpushd throughput against the size of the site (c=16)"
plot csv using 1:7 every ::1 with linespoints lw 2 pt 7 title "status1 (1 status update)", \
     csv using 1:8 every ::1 with linespoints lw 2 pt 5 title "mixed50 (25 statuses + 25 inbound SMS)"
