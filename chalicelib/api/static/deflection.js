/* Help articles as the customer types a report (the form works without this: its first send
   shows them). Asks GET /report/<type>/articles?q=… half a second after typing stops, shows at
   most three in the live region above the form, each with "This answered my question" (a small
   form posting to /report/<type>/answered). Articles shown are remembered in the report form, so
   sending it files the report at once. Built with DOM calls and textContent only: no markup from
   the server is ever parsed. */
(function () {
  'use strict';
  var DELAY = 500;
  var MIN_LENGTH = 12;
  function ready(run) {
    if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', run); } else { run(); }
  }
  ready(function () {
    var box = document.getElementById('article-suggestions');
    if (!box || box.hasAttribute('data-shown') || !window.fetch || !window.URLSearchParams) { return; }
    var form = document.querySelector('form[action="' + box.getAttribute('data-form') + '"]');
    if (!form) { return; }
    var shown = {};
    var timer = null;
    var asked = '';
    var latest = 0;

    function hidden(target, name, value) {
      var input = document.createElement('input');
      input.type = 'hidden';
      input.name = name;
      input.value = value;
      target.appendChild(input);
      return input;
    }
    function fieldValue(name) {
      var input = form.querySelector('input[name="' + name + '"]');
      return input ? input.value : '';
    }
    function customerText() {
      var parts = [];
      var inputs = form.querySelectorAll('textarea, input[type="text"]');
      for (var i = 0; i < inputs.length; i++) {
        var input = inputs[i];
        if (input.name.indexOf('customer-') === 0 || input.name === 'website-address') { continue; }
        if (input.value.trim()) { parts.push(input.value.trim()); }
      }
      return parts.join('\n');
    }
    function remember(slug) {
      if (shown[slug]) { return; }
      shown[slug] = true;
      hidden(form, 'shown-article', slug);
      if (!form.querySelector('input[name="articles-checked"]')) { hidden(form, 'articles-checked', '1'); }
    }
    function render(articles) {
      while (box.firstChild) { box.removeChild(box.firstChild); }
      if (!articles.length) { return; }
      var section = document.createElement('section');
      section.className = 'suggestions';
      var heading = document.createElement('h2');
      heading.textContent = box.getAttribute('data-title');
      section.appendChild(heading);
      var note = document.createElement('p');
      note.textContent = box.getAttribute('data-none');
      section.appendChild(note);
      var list = document.createElement('ul');
      list.className = 'suggested-articles';
      articles.forEach(function (article) {
        var item = document.createElement('li');
        var title = document.createElement('h3');
        var link = document.createElement('a');
        link.href = article.url;
        link.textContent = article.title;
        title.appendChild(link);
        item.appendChild(title);
        var summary = document.createElement('p');
        summary.textContent = article.summary;
        item.appendChild(summary);
        var answered = document.createElement('form');
        answered.method = 'post';
        answered.action = box.getAttribute('data-answered');
        hidden(answered, 'csrf-token', fieldValue('csrf-token'));
        hidden(answered, 'submission-id', fieldValue('submission-id'));
        hidden(answered, 'article', article.slug);
        var button = document.createElement('button');
        button.type = 'submit';
        button.className = 'secondary';
        button.textContent = box.getAttribute('data-button');
        var more = document.createElement('span');
        more.className = 'visually-hidden';
        more.textContent = ': ' + article.title;
        button.appendChild(more);
        answered.appendChild(button);
        item.appendChild(answered);
        list.appendChild(item);
        remember(article.slug);
      });
      section.appendChild(list);
      box.appendChild(section);
    }
    function ask() {
      var text = customerText();
      if (text.length < MIN_LENGTH || text === asked) { return; }
      asked = text;
      var number = ++latest;
      var query = new URLSearchParams({ q: text.slice(0, 2000) });
      fetch(box.getAttribute('data-url') + '?' + query.toString(), {
        headers: { Accept: 'application/json' },
        credentials: 'same-origin'
      }).then(function (response) {
        return response.ok ? response.json() : { articles: [] };
      }).then(function (answer) {
        if (number === latest) { render(answer.articles || []); }
      }).catch(function () { /* no suggestions: the form's send still checks */ });
    }
    form.addEventListener('input', function (event) {
      var target = event.target;
      if (!target || !(target.tagName === 'TEXTAREA' || target.type === 'text')) { return; }
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(ask, DELAY);
    });
  });
}());
