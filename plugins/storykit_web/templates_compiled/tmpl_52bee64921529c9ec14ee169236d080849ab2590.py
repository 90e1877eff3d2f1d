from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'web/_footer.html'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_root = resolve('root')
    l_0_site = resolve('site')
    pass
    yield '<footer class="site-footer">\n<div class="width-container">\n<h2 class="visually-hidden">Support links</h2>\n<ul class="site-footer__list">\n<li><a href="'
    yield escape((undefined(name='root') if l_0_root is missing else l_0_root))
    yield 'accessibility.html">Accessibility statement</a></li>\n<li><a href="'
    yield escape((undefined(name='root') if l_0_root is missing else l_0_root))
    yield 'feed.xml">Get new stories in a feed reader</a></li>\n'
    if environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'contact_email'):
        pass
        yield '<li><a href="mailto:'
        yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'contact_email'))
        yield '">Contact us: '
        yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'contact_email'))
        yield '</a></li>'
    yield '</ul>\n<p class="site-footer__copyright">'
    yield escape((environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'organisation') or environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title')))
    yield ". Stories are shared with the storyteller's consent.</p>\n</div>\n</footer>\n"

blocks = {}
debug_info = '6=14&7=16&8=18&10=26'