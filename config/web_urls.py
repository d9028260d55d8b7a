"""The web pages: storefront, buyer portal, seller dashboard, Alipay balance, login.

Each page's view lives in the app of the object it is about (orders: storefront, checkout and
order pages; insurance: the seller dashboard and the coverage switch; claims: 申请理赔 and the
保险服务 panel; alipay: the balance; shops: the seller's catalog) and reads what it shows through
the selectors of any app; every write is a call to a service.
"""

from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from shops.views import landing

urlpatterns = [
    path("", landing, name="home"),
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="registration/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page="login"), name="logout"),
    path("", include("shops.urls")),
    path("", include("orders.urls")),
    path("", include("insurance.urls")),
    path("", include("claims.urls")),
    path("", include("alipay.urls")),
]
