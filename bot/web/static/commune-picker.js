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
  document.querySelectorAll("input[data-commune-picker]").forEach(setup);
}());
