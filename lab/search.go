package lab

import (
	"fmt"
	"net/http"
	"time"
)

const (
	dateLayout    = "2006-01-02"
	maxLotLen     = 128
	maxSearchDays = 3660 // about ten years; keeps ms + per_day·days far from overflowing
	maxItems      = 3
)

// searchQuery is the validated query of a /search request.
type searchQuery struct {
	lot      string
	from, to time.Time // UTC midnights
	days     int64     // to − from + 1, in days
}

// searchCost returns the service time of a /search over days days:
// ms + perDay·days.
func searchCost(ms, perDay time.Duration, days int64) time.Duration {
	return ms + perDay*time.Duration(days)
}

// readSearch validates the lot, from and to query parameters. Its error is a
// *ParamError.
func readSearch(r *http.Request) (input, error) {
	q := r.URL.Query()
	lot, ok, err := queryValue(q, "lot")
	if err != nil {
		return input{}, err
	}
	if !ok || lot == "" || len(lot) > maxLotLen {
		return input{}, &ParamError{Param: "lot", Message: fmt.Sprintf("lot: expected an id of 1 to %d bytes, got %s", maxLotLen, given(lot, ok))}
	}
	var dates [2]time.Time
	for i, name := range []string{"from", "to"} {
		v, ok, err := queryValue(q, name)
		if err != nil {
			return input{}, err
		}
		d, perr := time.Parse(dateLayout, v)
		if !ok || perr != nil {
			return input{}, &ParamError{Param: name, Message: fmt.Sprintf("%s: expected a date YYYY-MM-DD, got %s", name, given(v, ok))}
		}
		dates[i] = d
	}
	from, to := dates[0], dates[1]
	if to.Before(from) {
		return input{}, &ParamError{Param: "to", Message: fmt.Sprintf("to: expected a date on or after from (%s), got %q", from.Format(dateLayout), to.Format(dateLayout))}
	}
	// Unix seconds, not to.Sub(from): Sub saturates beyond 292 years.
	days := (to.Unix()-from.Unix())/(24*60*60) + 1
	if days > maxSearchDays {
		return input{}, &ParamError{Param: "to", Message: fmt.Sprintf("to: expected at most %d days from from (%s), got %d days", maxSearchDays, from.Format(dateLayout), days)}
	}
	return input{search: searchQuery{lot: lot, from: from, to: to, days: days}}, nil
}

// given describes a query value for an error message.
func given(v string, ok bool) string {
	if !ok {
		return "none"
	}
	return fmt.Sprintf("%q", v)
}

type (
	searchItem struct {
		Date string `json:"date"`
		Free int    `json:"free"`
	}
	searchBody struct {
		OK    bool         `json:"ok"`
		Lot   string       `json:"lot"`
		From  string       `json:"from"`
		To    string       `json:"to"`
		Days  int64        `json:"days"`
		Items []searchItem `json:"items"`
		MS    float64      `json:"ms"`
	}
)

// serveSearch answers after searchCost with the first days of the range as
// items, each with a number of free places that depends only on the date.
func (s *Server) serveSearch(w http.ResponseWriter, r *http.Request, st *state, in input) {
	q := in.search
	d := searchCost(st.set.ms, st.set.perDay, q.days)
	if !sleep(r.Context(), d) {
		return
	}
	items := make([]searchItem, 0, maxItems)
	for i := range min(q.days, maxItems) {
		day := q.from.AddDate(0, 0, int(i))
		items = append(items, searchItem{Date: day.Format(dateLayout), Free: day.YearDay() % 7})
	}
	writeJSON(w, http.StatusOK, marshal(searchBody{
		OK: true, Lot: q.lot, From: q.from.Format(dateLayout), To: q.to.Format(dateLayout),
		Days: q.days, Items: items, MS: durationToMs(d),
	}))
}
