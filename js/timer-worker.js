// Timers for a hidden page (see timers.js): a dedicated worker's timers
// are not throttled with the page's. Each message [id, ms] arms one; the
// worker posts the id back when it is due.
onmessage = ({ data: [id, ms] }) => setTimeout(() => postMessage(id), ms);
