// What every page gets: the session, the typed client, the element to render into, and a
// signal that aborts when the user leaves the page (stopping its live streams).
export {};
