// Commune pickers: an <input data-commune-picker> suggests communes as the name is typed, with or
// without diacritics («huu lung» → «Xã Hữu Lũng»); the server looks them up (/admin/communes)
// within the account's area. Choosing one fills the name and the form's hidden commune_code.
(function () {
  "use strict";
  function setup(input) {
    var form = input.form;
    var hidden = form ? form.querySelector("input[name=commune_code]") : null;
    var list = document.createElement("ul");
    list.className = "suggestions";
    list.hidden = true;
    list.setAttribute("role", "listbox");
    input.insertAdjacentElement("afterend", list);
    input.setAttribute("autocomplete", "off");
    var timer = null, asked = 0;
    function show(items) {
      list.textContent = "";
      items.forEach(function (c) {
        var li = document.createElement("li");
        var b = document.createElement("button");
        b.type = "button";
        b.textContent = c.name + (c.province ? " — " + c.province : "");
        b.addEventListener("click", function () {
          input.value = c.name;
          if (hidden) { hidden.value = String(c.code); }
          list.hidden = true;
        });
        li.appendChild(b);
        list.appendChild(li);
      });
      list.hidden = items.length === 0;
    }
    input.addEventListener("input", function () {
      if (hidden) { hidden.value = ""; }
      clearTimeout(timer);
      var q = input.value.trim();
      if (q.length < 2) { show([]); return; }
      timer = setTimeout(function () {
        var n = ++asked;
        var province = form ? form.querySelector("[name=province]") : null;
        var url = "/admin/communes?q=" + encodeURIComponent(q) +
          (province && province.value ? "&province=" + encodeURIComponent(province.value) : "");
        fetch(url, {credentials: "same-origin"}).then(function (r) { return r.ok ? r.json() : []; })
          .then(function (items) { if (n === asked) { show(items); } })
          .catch(function () { show([]); });
      }, 150);
    });
  }
  // A long <select name="commune"> (filters) gets a search box: typing «huu lung» keeps the
  // matching communes and selects the first; diacritics, case and «xã/phường» do not matter.
  function fold(text) {
    return text.toLowerCase().replace(/đ/g, "d").normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/[^a-z0-9]+/g, " ").trim().replace(/^(xa|phuong|dac khu) /, "");
  }
  function searchable(select) {
    if (select.options.length < 8) { return; }
    var box = document.createElement("input");
    box.type = "search";
    box.className = "commune-search";
    box.placeholder = "Tìm xã theo tên";
    box.setAttribute("aria-label", "Tìm xã theo tên");
    select.insertAdjacentElement("beforebegin", box);
    var names = Array.prototype.map.call(select.options, function (o) { return fold(o.text); });
    box.addEventListener("input", function () {
      var q = fold(box.value), starts = null, contains = null;
      Array.prototype.forEach.call(select.options, function (o, i) {
        var match = !q || names[i].indexOf(q) !== -1;
        o.hidden = Boolean(o.value) && !match;
        if (!o.value || !q) { return; }
        if (starts === null && names[i].indexOf(q) === 0) { starts = o; }
        if (contains === null && match) { contains = o; }
      });
      var chosen = starts || contains;
      if (chosen) { select.value = chosen.value; }
    });
  }
  document.querySelectorAll("input[data-commune-picker]").forEach(setup);
  document.querySelectorAll("select[name=commune]").forEach(searchable);
}());
