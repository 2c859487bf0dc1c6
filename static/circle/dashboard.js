// The schedule form: the time typed is the facilitator's local time (the
// server is told the offset), and "Starts" defaults to the next quarter hour.
const form = document.getElementById("schedule-form");
if (form) {
  const offset = form.querySelector('input[name="utc_offset"]');
  const starts = form.querySelector('input[name="starts_at"]');
  if (offset) offset.value = String(new Date().getTimezoneOffset());
  if (starts && !starts.value) {
    const next = new Date(Date.now() + 15 * 60 * 1000);
    next.setMinutes(Math.ceil(next.getMinutes() / 15) * 15, 0, 0);
    const pad = (n) => String(n).padStart(2, "0");
    starts.value = `${next.getFullYear()}-${pad(next.getMonth() + 1)}-${pad(next.getDate())}T${pad(next.getHours())}:${pad(next.getMinutes())}`;
  }
}
