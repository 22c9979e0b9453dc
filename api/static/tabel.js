/* Kinerja console: every table shown can be downloaded as CSV ("Unduh CSV" above it).
   Progressive enhancement: no build step, no dependency; the page works without it. Cells
   that a spreadsheet would run as a formula get an apostrophe in front (OWASP CSV injection),
   action buttons and forms inside cells are left out. */
(function () {
  "use strict";
  var lang = document.documentElement.lang === "en" ? "en" : "id";
  var label = lang === "en" ? "Download CSV" : "Unduh CSV";

  function cellText(cell) {
    var copy = cell.cloneNode(true);
    copy.querySelectorAll("form, button, details, input, select, script, style, svg").forEach(
      function (el) { el.remove(); });
    var text = (copy.textContent || "").replace(/\s+/g, " ").trim();
    if (/^[=+\-@\t\r]/.test(text)) { text = "'" + text; }
    return /[",\n\r;]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  function toCsv(table) {
    var lines = [];
    table.querySelectorAll("tr").forEach(function (row) {
      var cells = [];
      row.querySelectorAll("th, td").forEach(function (cell) { cells.push(cellText(cell)); });
      if (cells.length) { lines.push(cells.join(",")); }
    });
    return "\ufeff" + lines.join("\r\n") + "\r\n";
  }

  function slug(text) {
    return (text || "tabel").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "")
      .slice(0, 60) || "tabel";
  }

  document.querySelectorAll("main table").forEach(function (table, index) {
    if (table.hasAttribute("data-no-export")) { return; }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "small secondary unduh-csv";
    button.textContent = label;
    button.addEventListener("click", function () {
      var blob = new Blob([toCsv(table)], { type: "text/csv;charset=utf-8" });
      var link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = slug(document.title) + "-" + (table.id || index + 1) + ".csv";
      document.body.appendChild(link);
      link.click();
      setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
    });
    var bar = document.createElement("p");
    bar.className = "unduh";
    bar.appendChild(button);
    table.parentNode.insertBefore(bar, table);
  });
})();
