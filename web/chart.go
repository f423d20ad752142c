package web

import (
	"fmt"
	"time"

	"github.com/trailguard/trailguard/history"
)

// The chart is drawn on the server as SVG (presentation attributes and
// classes only, which the CSP allows), so it needs no script and shows the
// very counts of the table below it.
const (
	chartW, chartH = 720, 180
	chartBuckets   = 48
	chartPad       = 24 // room for the axis labels
)

// bar is one severity's part of one bucket's column.
type bar struct {
	X, Y, W, H float64
	Class      string // sev-high, …
	Title      string // the tooltip: "12 high, 14:00–14:30"
}

// chart is the SVG's content.
type chart struct {
	W, H   int
	Bars   []bar
	Max    int
	Labels []axisLabel
}

type axisLabel struct {
	X    float64
	Text string
}

func newChart(st history.Stats) chart {
	c := chart{W: chartW, H: chartH + chartPad}
	for _, b := range st.Series {
		n := 0
		for _, v := range b.Counts {
			n += v
		}
		c.Max = max(c.Max, n)
	}
	if len(st.Series) == 0 || c.Max == 0 {
		return c
	}
	step, _ := time.ParseDuration(st.Step)
	bw := float64(chartW) / float64(len(st.Series))
	layout := "15:04"
	if st.To.Sub(st.From) > 48*time.Hour {
		layout = "Jan 2"
	}
	for i, b := range st.Series {
		x := float64(i) * bw
		y := float64(chartH)
		// Most urgent at the bottom, where the eye starts.
		for _, sev := range history.Severities() {
			n := b.Counts[sev]
			if n == 0 {
				continue
			}
			h := float64(n) / float64(c.Max) * (chartH - 4)
			y -= h
			c.Bars = append(c.Bars, bar{X: x + 1, Y: y, W: max(bw-2, 1), H: h, Class: "sev-" + sev,
				Title: fmt.Sprintf("%d %s, %s–%s UTC", n, sev, b.Start.UTC().Format("Jan 2 15:04"), b.Start.Add(step).UTC().Format("15:04"))})
		}
		if i%max(len(st.Series)/6, 1) == 0 {
			c.Labels = append(c.Labels, axisLabel{X: x, Text: b.Start.UTC().Format(layout)})
		}
	}
	return c
}
